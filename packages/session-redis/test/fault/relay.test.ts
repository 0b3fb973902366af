import { randomUUID } from "node:crypto";
import type { LogEntry, RelayMember } from "@mcp-sessions/session-core";
import { spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import type { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { RedisSessionStore } from "../../src/index.js";
import { joinRecording, type RecordingMember, sessionRecord } from "../support/relay.js";
import { baselineResources, beyond } from "../support/resources.js";
import { spawnWithAdmin } from "../support/spawned.js";
import { outcomeOf, recordUnhandledRejections } from "../support/store-fleet.js";

const COMMAND_TIMEOUT_MS = 500;
/** ioredis backs off between reconnects; the bound is generous, a passing run is quick. */
const RECOVERY_WAIT = { timeout: 30_000, interval: 100 } as const;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function spawn(args: string[] = []): ReturnType<typeof spawnWithAdmin> {
  return spawnWithAdmin((cleanup) => cleanups.push(cleanup), args);
}

/** A store that owns its connection, as a separate process would have it. */
function open(url: string, prefix: string): { store: RedisSessionStore; logs: LogEntry[] } {
  const logs: LogEntry[] = [];
  const store = new RedisSessionStore({
    url,
    prefix,
    commandTimeoutMs: COMMAND_TIMEOUT_MS,
    logger: (entry) => {
      logs.push(entry);
    },
  });
  cleanups.push(() => store.close());
  return { store, logs };
}

function unhandledRejections() {
  const recorder = recordUnhandledRejections();
  cleanups.push(async () => recorder.stop());
  return recorder;
}

/**
 * Sends `message` from `sender` to `target` until a send resolves true, and returns what it
 * sent: each member comes back on its own schedule after a reconnect.
 */
async function sendUntilHeard(
  sender: RelayMember,
  target: RelayMember,
  sessionId: string,
): Promise<{ attempt: number }> {
  let attempt = 0;
  await expect
    .poll(async () => {
      attempt += 1;
      const sent = await outcomeOf(sender.send(target.id, sessionId, { attempt }));
      return sent.status === "resolved" && sent.value;
    }, RECOVERY_WAIT)
    .toBe(true);
  return { attempt };
}

/** What a relay logs each time a member's subscribe attempt fails and is scheduled again. */
const RETRYING = /^Relay member could not subscribe; retrying in/;

/** How many of `logs` since the `since`-th say that a member's subscribe will be retried. */
function subscribeRetries(logs: readonly LogEntry[], since = 0): number {
  return logs
    .slice(since)
    .filter((entry) => RETRYING.test(String((entry.data as { message?: unknown }).message))).length;
}

async function killConnectionsNamed(admin: Redis, name: string): Promise<number> {
  const list = (await admin.client("LIST")) as string;
  const ids = list
    .trim()
    .split("\n")
    .filter((line) => line.split(" ").includes(`name=${name}`))
    .map((line) => /(?:^| )id=(\d+)/.exec(line)?.[1]);
  for (const id of ids) await admin.client("KILL", "ID", id as string);
  return ids.length;
}

describe("relay faults", () => {
  it("subscribes again after its connection is killed, and a later send reaches the member", async () => {
    const rejections = unhandledRejections();
    const { server, admin } = await spawn();
    const prefix = `t-${randomUUID()}`;
    const waiting = joinRecording(open(server.url, prefix).store);
    const sender = joinRecording(open(server.url, prefix).store).member;
    await Promise.all([waiting.member.ready, sender.ready]);

    // One subscription connection per store carries its members' channels.
    expect(await killConnectionsNamed(admin, `${prefix}:subscriber`)).toBe(2);

    const { attempt } = await sendUntilHeard(sender, waiting.member, "session-1");
    await expect
      .poll(() => waiting.messages.map(({ message }) => message), RECOVERY_WAIT)
      .toContainEqual({ attempt });
    expect(rejections.reasons).toEqual([]);
  });

  it("rejects with STORE_UNAVAILABLE while Redis is down, and reaches every member again after", async () => {
    const rejections = unhandledRejections();
    // Persisted, so that the session and its holds are there again after the restart.
    const { server } = await spawn(["--appendonly", "yes", "--appendfsync", "always"]);
    const prefix = `t-${randomUUID()}`;
    const first = open(server.url, prefix).store;
    const { store: second, logs } = open(server.url, prefix);
    const a = joinRecording(first);
    const b = joinRecording(second);
    const leaving = joinRecording(second);
    await Promise.all([a.member.ready, b.member.ready, leaving.member.ready]);
    const session = sessionRecord();
    await first.create(session);
    await b.member.hold(session.id, "stream-1");

    await server.kill();
    const joinedAt = logs.length;
    const late = joinRecording(second);
    let lateReady = false;
    late.member.ready.then(() => {
      lateReady = true;
    });
    const calls = await Promise.all([
      outcomeOf(a.member.send(b.member.id, session.id, { n: 1 })),
      outcomeOf(a.member.broadcast(session.id, { n: 2 })),
      outcomeOf(a.member.publish(session.id, "stream-1", { n: 3 }, { store: true })),
      outcomeOf(a.member.hold(session.id, "stream-2", { after: "1-0" })),
      outcomeOf(b.member.release(session.id, "stream-1")),
      outcomeOf(leaving.member.leave()),
    ]);
    expect(calls.map((call) => call.status === "rejected" && call.code)).toEqual(
      calls.map(() => "STORE_UNAVAILABLE"),
    );
    // The outage lasts until the late member has failed to subscribe twice: it keeps trying,
    // and its ready never rejects.
    await expect.poll(() => subscribeRetries(logs, joinedAt), RECOVERY_WAIT).toBeGreaterThan(1);
    expect(lateReady).toBe(false);
    await server.restart();

    await sendUntilHeard(a.member, b.member, session.id);
    await late.member.ready;
    expect(await a.member.send(late.member.id, session.id, { to: "late" })).toBe(true);
    await expect
      .poll(() => late.messages, RECOVERY_WAIT)
      .toEqual([{ sessionId: session.id, message: { to: "late" } }]);
    // The hold outlived the outage, and so did the member that holds it.
    const position = await a.member.publish(session.id, "stream-1", { n: 4 }, { store: true });
    await expect
      .poll(() => b.events.map(({ event }) => event), RECOVERY_WAIT)
      .toContainEqual({ position, message: { n: 4 } });
    // A member that left while Redis was down is subscribed again by ioredis's reconnect; the
    // first message to it finds nobody and the channel goes.
    await expect
      .poll(() => a.member.send(leaving.member.id, session.id, { to: "gone" }), RECOVERY_WAIT)
      .toBe(false);
    expect(leaving.messages).toEqual([]);
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: "warning",
        data: expect.objectContaining({ message: expect.stringMatching(RETRYING) }),
      }),
    );
    expect(rejections.reasons).toEqual([]);
  });

  it("close() of a store whose member waits for Redis resolves ready and leaves no connection or timer", async () => {
    const rejections = unhandledRejections();
    const server = await spawnRedisServer();
    cleanups.push(() => server.stop());
    const baseline = await baselineResources();
    await server.kill();
    const { store, logs } = open(server.url, `t-${randomUUID()}`);
    const waiting: RecordingMember = joinRecording(store);
    // A subscribe attempt timed out, and its retry is armed.
    await expect.poll(() => subscribeRetries(logs), RECOVERY_WAIT).toBeGreaterThan(0);

    await store.close();

    await waiting.member.ready;
    await expect.poll(() => beyond(baseline), { timeout: 10_000, interval: 100 }).toEqual({});
    expect(rejections.reasons).toEqual([]);
  });
});
