import { randomUUID } from "node:crypto";
import { type LogEntry, type RelayMember, silentSendLog } from "@mcp-sessions/session-core";
import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RedisSessionStore, type RedisSessionStoreOptions } from "../src/index.js";
import { joinRecording, sessionRecord } from "./support/relay.js";
import { keysUnder } from "./support/store-fleet.js";

const SIGNAL_WAIT = { timeout: 10_000, interval: 20 } as const;
const HOUR = 3_600_000;

let server: SpawnedRedis;
let admin: Redis;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  server = await spawnRedisServer();
  admin = new Redis(server.url);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await admin.quit();
  await server.stop();
});

/** A store on a client of its own, as another process would have it; closed after the test. */
function open(
  prefix = `t-${randomUUID()}`,
  options: Omit<RedisSessionStoreOptions, "client" | "url" | "prefix"> = {},
): { store: RedisSessionStore; prefix: string; logs: LogEntry[] } {
  const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  const logs: LogEntry[] = [];
  const store = new RedisSessionStore({
    client,
    prefix,
    logger: (entry) => {
      logs.push(entry);
    },
    ...options,
  });
  cleanups.push(
    async () => client.disconnect(),
    () => store.close(),
  );
  return { store, prefix, logs };
}

/** The relay keys of `sessionId` under `prefix`: its log and its holders, as SCAN finds them. */
async function relayKeysOf(prefix: string, sessionId: string): Promise<string[]> {
  return (await keysUnder(admin, prefix)).filter(
    (key) => key.endsWith(`}:ev:${sessionId}`) || key.endsWith(`}:h:${sessionId}`),
  );
}

/** Publishes a stored event and holds the stream, so the session has both relay keys. */
async function useRelay(member: RelayMember, sessionId: string): Promise<string> {
  expect(await member.hold(sessionId, "stream-1")).toEqual([]);
  const position = await member.publish(sessionId, "stream-1", { n: 1 }, { store: true });
  expect(position).toEqual(expect.any(String));
  return position as string;
}

describe("RedisSessionStore.relay keys", () => {
  it("keeps a session's log and holders under its hash tag, expiring with it, also after a touch", async () => {
    const { store, prefix } = open();
    const session = sessionRecord();
    await store.create(session);
    await useRelay(joinRecording(store).member, session.id);

    const keys = await keysUnder(admin, prefix);
    const tag = keys.find((key) => key.endsWith(`}:s:${session.id}`))?.split("}")[0];
    expect(tag).toMatch(new RegExp(`^\\{${prefix}:\\d+$`));
    const log = `${tag}}:ev:${session.id}`;
    const holders = `${tag}}:h:${session.id}`;
    expect(keys).toEqual(expect.arrayContaining([log, holders]));
    for (const key of [log, holders]) {
      expect(await admin.pexpiretime(key)).toBe(session.expiresAt);
    }

    const now = Date.now();
    const touched = await store.touch(session.id, { now, ttl: 2 * HOUR, maxLifetime: 3 * HOUR });
    expect(touched).toMatchObject({ status: "found", session: { expiresAt: now + 2 * HOUR } });
    for (const key of [`${tag}}:s:${session.id}`, log, holders]) {
      expect(await admin.pexpiretime(key)).toBe(now + 2 * HOUR);
    }
  });

  it("writes the log with fields s (stream id) and m (message JSON)", async () => {
    const { store, prefix } = open();
    const session = sessionRecord();
    await store.create(session);
    const { member } = joinRecording(store);
    const position = await member.publish(session.id, "stream-1", { a: [1] }, { store: true });

    const [log] = (await keysUnder(admin, prefix)).filter((key) => key.includes("}:ev:"));
    expect(await admin.xrange(log as string, "-", "+")).toEqual([
      [position, ["s", "stream-1", "m", '{"a":[1]}']],
    ]);
  });

  it.each([
    ["delete", (store: RedisSessionStore, id: string) => store.delete(id, { now: Date.now() })],
    ["an expiry claim", (store: RedisSessionStore) => store.sweep(Date.now() + 2 * HOUR)],
    ["clear", (store: RedisSessionStore) => store.clear()],
  ])("deletes a session's log and holders on %s", async (_label, end) => {
    const { store, prefix } = open();
    const session = sessionRecord();
    await store.create(session);
    const { member } = joinRecording(store);
    await useRelay(member, session.id);
    expect(await relayKeysOf(prefix, session.id)).toHaveLength(2);

    await end(store, session.id);

    expect(await relayKeysOf(prefix, session.id)).toEqual([]);
    expect(await keysUnder(admin, prefix)).toEqual([]);
  });

  it("leaves no log or holders behind for 1,000 sessions, half deleted and half expired", async () => {
    const { store, prefix } = open();
    const { member } = joinRecording(store);
    const sessions = Array.from({ length: 1_000 }, () => sessionRecord());
    await Promise.all(sessions.map((session) => store.create(session)));
    await Promise.all(sessions.map((session) => useRelay(member, session.id)));
    const before = await keysUnder(admin, prefix);
    expect(before.filter((key) => key.includes("}:ev:"))).toHaveLength(1_000);
    expect(before.filter((key) => key.includes("}:h:"))).toHaveLength(1_000);

    const deleted = await Promise.all(
      sessions.slice(0, 500).map((session) => store.delete(session.id, { now: Date.now() })),
    );
    expect(deleted.every(Boolean)).toBe(true);
    let claimed = 0;
    for (;;) {
      const sweep = await store.sweep(Date.now() + 2 * HOUR);
      claimed += sweep.claimed;
      if (sweep.claimed === 0) break;
    }
    expect(claimed).toBe(500);

    const after = await keysUnder(admin, prefix);
    expect(after.filter((key) => key.includes("}:ev:") || key.includes("}:h:"))).toEqual([]);
    expect(after).toEqual([]);
  });

  it("trims the log to about maxEventsPerSession entries, oldest first", async () => {
    const maxEventsPerSession = 10;
    const { store, prefix } = open(undefined, { maxEventsPerSession });
    const session = sessionRecord();
    await store.create(session);
    const { member } = joinRecording(store);
    const positions: string[] = [];
    for (let n = 0; n < 500; n++) {
      positions.push(
        (await member.publish(session.id, "stream-1", { n }, { store: true })) as string,
      );
    }

    // MAXLEN ~ drops whole stream nodes only: up to one node more than asked for stays.
    const [, nodeSize] = (await admin.config("GET", "stream-node-max-entries")) as [string, string];
    const [log] = (await keysUnder(admin, prefix)).filter((key) => key.includes("}:ev:"));
    const length = await admin.xlen(log as string);
    expect(length).toBeGreaterThanOrEqual(maxEventsPerSession);
    expect(length).toBeLessThanOrEqual(maxEventsPerSession + Number(nodeSize));
    expect(await member.hold(session.id, "stream-1", { after: positions[0] as string })).toBe(
      undefined,
    );
    expect(await member.hold(session.id, "stream-1", { after: positions[498] as string })).toEqual([
      { position: positions[499], message: { n: 499 } },
    ]);
  });

  it("rejects a bad maxEventsPerSession with a TypeError that names it", () => {
    for (const maxEventsPerSession of [0, 1.5, 1_000_001, Number.NaN, "10" as unknown as number]) {
      expect(
        () => new RedisSessionStore({ client: admin, maxEventsPerSession, logger: silentSendLog }),
      ).toThrow(/`maxEventsPerSession`/);
    }
  });
});

describe("RedisSessionStore.relay across stores", () => {
  it("connects members of two stores on one prefix: send, broadcast, publish and hold", async () => {
    const prefix = `t-${randomUUID()}`;
    const first = open(prefix).store;
    const second = open(prefix).store;
    const a = joinRecording(first);
    const b = joinRecording(second);
    await Promise.all([a.member.ready, b.member.ready]);
    const session = sessionRecord();
    await first.create(session);

    expect(await a.member.send(b.member.id, session.id, { to: "b" })).toBe(true);
    await b.member.broadcast(session.id, { from: "b" });
    await expect
      .poll(() => b.messages, SIGNAL_WAIT)
      .toEqual([{ sessionId: session.id, message: { to: "b" } }]);
    await expect
      .poll(() => a.messages, SIGNAL_WAIT)
      .toEqual([{ sessionId: session.id, message: { from: "b" } }]);

    await b.member.hold(session.id, "stream-1");
    const position = await a.member.publish(session.id, "stream-1", { n: 1 }, { store: true });
    await expect
      .poll(() => b.events, SIGNAL_WAIT)
      .toEqual([
        { sessionId: session.id, streamId: "stream-1", event: { position, message: { n: 1 } } },
      ]);

    // The stream moves to a member of the other store; a replay comes with it.
    const later = await b.member.publish(session.id, "stream-1", { n: 2 }, { store: true });
    expect(await a.member.hold(session.id, "stream-1", { after: position as string })).toEqual([
      { position: later, message: { n: 2 } },
    ]);
    await b.member.publish(session.id, "stream-1", { n: 3 }, { store: false });
    await expect
      .poll(() => a.events.map(({ event }) => event), SIGNAL_WAIT)
      .toEqual([{ message: { n: 3 } }]);
  });

  it("keeps the hold of a member nobody hears until another member takes the stream", async () => {
    const prefix = `t-${randomUUID()}`;
    const { store } = open(prefix);
    const gone = open(prefix).store;
    const session = sessionRecord();
    await store.create(session);
    const holder = joinRecording(gone);
    await holder.member.ready;
    await holder.member.hold(session.id, "stream-1");
    const [holders] = (await keysUnder(admin, prefix)).filter((key) => key.includes("}:h:"));
    await gone.close();

    // A holder that hears nothing may be reconnecting: one lost event does not drop its hold.
    const publisher = joinRecording(store);
    await publisher.member.publish(session.id, "stream-1", { n: 1 }, { store: true });
    expect(await admin.hgetall(holders as string)).toEqual({ "stream-1": holder.member.id });

    await publisher.member.hold(session.id, "stream-1");
    await publisher.member.publish(session.id, "stream-1", { n: 2 }, { store: true });
    expect(await admin.hgetall(holders as string)).toEqual({ "stream-1": publisher.member.id });
    await expect
      .poll(() => publisher.events.map(({ event }) => event.message), SIGNAL_WAIT)
      .toEqual([{ n: 2 }]);
  });
});

describe("RedisSessionStore.relay members", () => {
  it("runs the relay's scripts again after a script cache flush", async () => {
    const { store } = open();
    const session = sessionRecord();
    await store.create(session);
    const { member } = joinRecording(store);
    await redisScriptFlush();

    const position = await useRelay(member, session.id);
    await redisScriptFlush();
    expect(await member.hold(session.id, "stream-1", { after: position })).toEqual([]);
    await redisScriptFlush();
    await member.release(session.id, "stream-1");
  });

  it("logs a listener that throws, and keeps delivering", async () => {
    const { store, logs } = open();
    const thrower = store.relay.join({
      message: () => {
        throw new Error("listener failed");
      },
      event: () => {},
    });
    const other = joinRecording(store);
    await Promise.all([thrower.ready, other.member.ready]);

    expect(await other.member.send(thrower.id, "session-1", { n: 1 })).toBe(true);
    expect(await thrower.send(other.member.id, "session-1", { n: 2 })).toBe(true);

    await expect.poll(() => other.messages, SIGNAL_WAIT).toHaveLength(1);
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: "error",
        logger: "session-redis/relay",
        data: expect.objectContaining({ message: "Relay listener threw" }),
      }),
    );
  });

  it("drops and logs malformed messages without their content, and keeps delivering", async () => {
    const { store, prefix, logs } = open();
    const target = joinRecording(store);
    await target.member.ready;
    const secret = `secret-${randomUUID()}`;
    const channel = `${prefix}:m:${target.member.id}`;
    const malformed = [
      secret,
      `m\n${secret}`,
      `m\nsession-1\n{"broken": ${secret}`,
      `m\nsession-1\n[1, "${secret}"]`,
      `m\n\n{"${secret}": 1}`,
      `b\nsomeone\nsession-1\n{"${secret}": 1}`,
      `e\n\n\nsession-1\n{"${secret}": 1}`,
      `x\nsession-1\n{"${secret}": 1}`,
    ];
    for (const payload of malformed) expect(await admin.publish(channel, payload)).toBe(1);
    await admin.publish(`${prefix}:all`, `m\nsession-1\n{"${secret}": 1}`);
    await admin.publish(channel, 'm\nsession-1\n{"ok":true}');

    await expect
      .poll(() => target.messages, SIGNAL_WAIT)
      .toEqual([{ sessionId: "session-1", message: { ok: true } }]);
    expect(target.events).toEqual([]);
    const dropped = logs.filter(
      (entry) =>
        (entry.data as { message?: string }).message === "Dropped a malformed relay message",
    );
    expect(dropped).toHaveLength(malformed.length + 1);
    expect(JSON.stringify(logs)).not.toContain(secret);
  });

  it("refuses a stream or session id with a line break before anything reaches Redis", async () => {
    const { store, prefix } = open();
    const session = sessionRecord();
    await store.create(session);
    const { member } = joinRecording(store);

    await expect(
      member.publish(session.id, "stream\n1", { n: 1 }, { store: true }),
    ).rejects.toBeInstanceOf(TypeError);
    await expect(member.send(member.id, "session\n1", { n: 1 })).rejects.toBeInstanceOf(TypeError);
    await expect(member.broadcast("session\n1", { n: 1 })).rejects.toBeInstanceOf(TypeError);
    // A message JSON cannot carry is the caller's mistake, not an outage.
    await expect(
      member.publish(session.id, "stream-1", { n: 1n }, { store: true }),
    ).rejects.toBeInstanceOf(TypeError);
    expect((await keysUnder(admin, prefix)).filter((key) => key.includes("}:ev:"))).toEqual([]);
  });

  it("subscribes every member on the store's one subscription connection, and leaves it with the last", async () => {
    const { store, prefix } = open();
    const members = Array.from({ length: 3 }, () => joinRecording(store).member);
    await Promise.all([store.ready(), ...members.map((member) => member.ready)]);
    const subscribers = async () =>
      (await clientList())
        .filter((client) => client.name === `${prefix}:subscriber`)
        .map((client) => Number(client.sub));

    // Each member's channel and the broadcast channel, beside the store's channel and
    // expired-key events.
    expect(await subscribers()).toEqual([members.length + 3]);

    await Promise.all(members.map((member) => member.leave()));
    expect(await subscribers()).toEqual([2]);
  });

  it("close() leaves every member, closes the subscription connection and rejects later calls", async () => {
    const { store, prefix } = open();
    const member = joinRecording(store).member;
    await member.ready;
    const sender = joinRecording(open(prefix).store).member;
    await sender.ready;

    await store.close();

    expect(await sender.send(member.id, "session-1", { n: 1 })).toBe(false);
    await expect
      .poll(
        async () => (await clientList()).filter((client) => client.name === `${prefix}:subscriber`),
        SIGNAL_WAIT,
      )
      .toHaveLength(1);
    await expect(member.send(sender.id, "session-1", { n: 1 })).rejects.toMatchObject({
      code: "STORE_CLOSED",
    });
    await expect(member.hold("session-1", "stream-1")).rejects.toMatchObject({
      code: "STORE_CLOSED",
    });
    await member.leave();
    expect(() => store.relay.join({ message: () => {}, event: () => {} })).toThrow(
      expect.objectContaining({ code: "STORE_CLOSED" }),
    );
  });
});

async function redisScriptFlush(): Promise<void> {
  await admin.script("FLUSH");
}

/** CLIENT LIST as records of its fields. */
async function clientList(): Promise<Record<string, string>[]> {
  const list = (await admin.client("LIST")) as string;
  return list
    .trim()
    .split("\n")
    .map((line) =>
      Object.fromEntries(
        line.split(" ").map((field) => {
          const separator = field.indexOf("=");
          return [field.slice(0, separator), field.slice(separator + 1)];
        }),
      ),
    );
}
