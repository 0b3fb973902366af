import { randomUUID } from "node:crypto";
import { silentSendLog } from "@mcp-sessions/session-core";
import { startRedisCluster } from "@mcp-sessions/session-testing/redis";
import { Cluster } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { RedisSessionStore } from "../../src/index.js";
import { KeyLayout } from "../../src/keys.js";
import { joinRecording, sessionRecord } from "../support/relay.js";

const SIGNAL_WAIT = { timeout: 10_000, interval: 20 } as const;
const DEFAULT_BUCKETS = 16;

const server = await startRedisCluster({ masters: 3 });
/** For the tests' own reads (KEYSLOT, CLUSTER SLOTS, SCAN); stores get clients of their own. */
const admin = new Cluster([...server.nodes]);
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await admin.quit();
  await server.stop();
});

/** A store on a Cluster client of its own, as another process would have it. */
function open(prefix: string): RedisSessionStore {
  const client = new Cluster([...server.nodes], { redisOptions: { maxRetriesPerRequest: 1 } });
  const store = new RedisSessionStore({ client, prefix, logger: silentSendLog });
  cleanups.push(
    () => client.quit(),
    () => store.close(),
  );
  return store;
}

async function keySlot(key: string): Promise<number> {
  return Number(await admin.cluster("KEYSLOT", key));
}

/** One session id per master under `prefix`: its session key lives on that master. */
async function idOnEveryMaster(prefix: string): Promise<string[]> {
  const ranges = await admin.cluster("SLOTS");
  const masterOf = (slot: number) => {
    const master = ranges.find(([start, end]) => start <= slot && slot <= end)?.[2];
    return master === undefined ? undefined : `${master[0]}:${master[1]}`;
  };
  const layout = new KeyLayout(prefix, DEFAULT_BUCKETS);
  const byMaster = new Map<string, string>();
  for (let attempt = 0; attempt < 1_000 && byMaster.size < server.nodes.length; attempt++) {
    const id = `session-${randomUUID()}`;
    const master = masterOf(await keySlot(layout.session(id)));
    if (master !== undefined && !byMaster.has(master)) byMaster.set(master, id);
  }
  if (byMaster.size < server.nodes.length) {
    throw new Error(`No prefix bucket landed on each of the ${server.nodes.length} masters`);
  }
  return [...byMaster.values()];
}

describe("RedisSessionStore.relay on a Cluster", () => {
  it("sends, publishes and holds for sessions on every master, between two stores", async () => {
    const prefix = `cluster-${randomUUID()}`;
    const first = open(prefix);
    const second = open(prefix);
    const a = joinRecording(first);
    const b = joinRecording(second);
    await Promise.all([a.member.ready, b.member.ready]);
    const ids = await idOnEveryMaster(prefix);
    await Promise.all(ids.map((id) => first.create(sessionRecord(id))));

    for (const id of ids) {
      expect(await a.member.send(b.member.id, id, { to: id })).toBe(true);
      expect(await b.member.hold(id, "stream-1")).toEqual([]);
    }
    const positions = new Map<string, string>();
    for (const id of ids) {
      const position = await a.member.publish(id, "stream-1", { n: 1, id }, { store: true });
      expect(position).toEqual(expect.any(String));
      positions.set(id, position as string);
    }

    // Each master delivers on a connection of its own: messages of one session keep their order,
    // those of sessions on different masters may arrive in any.
    const bySession = <T extends { sessionId: string }>(heard: readonly T[]) =>
      [...heard].sort((x, y) => x.sessionId.localeCompare(y.sessionId));
    const sortedIds = [...ids].sort();
    await expect
      .poll(() => bySession(b.messages), SIGNAL_WAIT)
      .toEqual(sortedIds.map((id) => ({ sessionId: id, message: { to: id } })));
    await expect
      .poll(() => bySession(b.events), SIGNAL_WAIT)
      .toEqual(
        sortedIds.map((id) => ({
          sessionId: id,
          streamId: "stream-1",
          event: { position: positions.get(id), message: { n: 1, id } },
        })),
      );
    for (const id of ids) {
      const later = await b.member.publish(id, "stream-1", { n: 2 }, { store: true });
      expect(await a.member.hold(id, "stream-1", { after: positions.get(id) as string })).toEqual([
        { position: later, message: { n: 2 } },
      ]);
    }
  });

  it("broadcasts to the members of every store but the sender", async () => {
    const prefix = `cluster-${randomUUID()}`;
    const a = joinRecording(open(prefix));
    const b = joinRecording(open(prefix));
    const c = joinRecording(open(prefix));
    await Promise.all([a.member.ready, b.member.ready, c.member.ready]);

    await a.member.broadcast("session-1", { n: 1 });

    for (const other of [b, c]) {
      await expect
        .poll(() => other.messages, SIGNAL_WAIT)
        .toEqual([{ sessionId: "session-1", message: { n: 1 } }]);
    }
    expect(a.messages).toEqual([]);
  });

  it("counts receivers across nodes: a member that left is gone on every slot", async () => {
    const prefix = `cluster-${randomUUID()}`;
    const store = open(prefix);
    const gone = open(prefix);
    const sender = joinRecording(store).member;
    const holder = joinRecording(gone).member;
    await Promise.all([sender.ready, holder.ready]);
    const ids = await idOnEveryMaster(prefix);
    await Promise.all(ids.map((id) => store.create(sessionRecord(id))));
    for (const id of ids) await holder.hold(id, "stream-1");
    const layout = new KeyLayout(prefix, DEFAULT_BUCKETS);
    for (const id of ids) {
      expect(await admin.hget(layout.holders(id), "stream-1")).toBe(holder.id);
      // The log and holders share the session hash's slot, so one script reaches all three.
      const slots = await Promise.all(
        [layout.session(id), layout.eventLog(id), layout.holders(id)].map(keySlot),
      );
      expect(new Set(slots).size).toBe(1);
    }

    await holder.leave();

    for (const id of ids) {
      expect(await sender.send(holder.id, id, { n: 1 })).toBe(false);
      // Its hold stays until taken over or the session ends: nobody hearing may be a reconnect.
      expect(await sender.publish(id, "stream-1", { n: 1 }, { store: true })).toMatch(/^\d+-\d+$/);
      expect(await admin.hget(layout.holders(id), "stream-1")).toBe(holder.id);
    }
  });
});
