import { randomBytes, randomUUID } from "node:crypto";
import { type LogEntry, SessionManager } from "@mcp-sessions/session-core";
import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RedisSessionStore, type RedisSessionStoreOptions } from "../src/index.js";
import {
  ACL_USER,
  aclLog,
  readmeAclAddition,
  readmeAclRule,
  readmeAclVersionAdditions,
} from "./support/acl.js";
import { joinRecording } from "./support/relay.js";

const PASSWORD = randomBytes(16).toString("hex");
const HOUR = 3_600_000;
const WAIT = { timeout: 10_000, interval: 20 } as const;

let server: SpawnedRedis;
let admin: Redis;
/** Newest first: stores close before the clients they were given. */
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  // The rule fits `keyspaceEvents: "subscribe"`, where the server is set up by its admin.
  server = await spawnRedisServer({ args: ["--notify-keyspace-events", "Ex"] });
  admin = new Redis(server.url);
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await admin.quit();
  await server.stop();
});

/** Creates (or resets) the README's user for `prefix`, with `extra` rules after it. */
async function createUser(prefix: string, extra: string[] = []): Promise<void> {
  const rule = readmeAclRule({ password: PASSWORD, prefix, db: 0 });
  const forVersion = await readmeAclVersionAdditions(admin);
  expect(await admin.call("ACL", "SETUSER", ACL_USER, ...rule, ...forVersion, ...extra)).toBe("OK");
}

/** A connection as the README's user, closed after the test. */
function connectAsUser(): Redis {
  const client = new Redis(server.url, {
    username: ACL_USER,
    password: PASSWORD,
    maxRetriesPerRequest: 1,
  });
  cleanups.push(async () => client.disconnect());
  return client;
}

function storeAsUser(
  prefix: string,
  options: Omit<RedisSessionStoreOptions, "client" | "url" | "prefix"> = {},
): { store: RedisSessionStore; logs: LogEntry[] } {
  const logs: LogEntry[] = [];
  const store = new RedisSessionStore({
    client: connectAsUser(),
    prefix,
    keyspaceEvents: "subscribe",
    logger: (entry) => void logs.push(entry),
    ...options,
  });
  cleanups.push(() => store.close());
  return { store, logs };
}

function manage(store: RedisSessionStore): { sessions: SessionManager; expired: string[] } {
  const sessions = new SessionManager({ store, enabled: false, logger: () => {} });
  const expired: string[] = [];
  sessions.setExpirationHandler((id) => void expired.push(id));
  cleanups.push(() => sessions.close());
  return { sessions, expired };
}

/** The session key of `id`, found by the admin (tests only; the store never scans). */
async function sessionKeyOf(prefix: string, id: string): Promise<string> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await admin.scan(cursor, "MATCH", `{${prefix}:*`, "COUNT", 1000);
    cursor = next;
    keys.push(...batch.filter((key) => key.endsWith(`}:s:${id}`)));
  } while (cursor !== "0");
  expect(keys).toHaveLength(1);
  return keys[0] as string;
}

describe("the README's ACL rule", () => {
  it("runs a fleet of two stores on its prefix, with nothing refused", async () => {
    const prefix = `acl-${randomUUID()}`;
    await createUser(prefix);
    await admin.call("ACL", "LOG", "RESET");
    const a = storeAsUser(prefix);
    const b = storeAsUser(prefix);
    // Resolves once the store's channel and `__keyevent@0__:expired` are subscribed.
    await Promise.all([a.store.ready(), b.store.ready()]);
    const fleetA = manage(a.store);
    const fleetB = manage(b.store);
    const endedOnB: string[] = [];
    fleetB.sessions.on("ended", ({ id, reason }) => void endedOnB.push(`${reason}:${id}`));

    // Create, touch, get, count and list: one script or read each, on either instance.
    const session = await fleetA.sessions.create({ plan: "pro" }, { owner: "user-42" });
    expect(await fleetB.sessions.touch(session.id, { owner: "user-42" })).toMatchObject({
      id: session.id,
      metadata: { plan: "pro" },
    });
    expect(await fleetB.sessions.get(session.id, { owner: "user-7" })).toBeUndefined();
    expect(await fleetA.sessions.getActiveSessionCount()).toBe(1);
    expect((await fleetB.sessions.list()).map(({ id }) => id)).toEqual([session.id]);

    // Delete: published on `<prefix>:events`, heard by the other instance.
    expect(await fleetA.sessions.cleanup(session.id)).toBe(true);
    await expect.poll(() => endedOnB, WAIT).toEqual([`destroyed:${session.id}`]);

    // Sweep: the claim script, at a time past the deadline.
    const due = await fleetA.sessions.create();
    const swept = await a.store.sweep(Date.now() + HOUR);
    expect(swept.claimed).toBe(1);
    await expect.poll(() => fleetA.expired, WAIT).toEqual([due.id]);
    await expect.poll(() => endedOnB, WAIT).toContain(`expired:${due.id}`);

    // Keyspace events: Redis expires a key, and the subscribers as this user claim it.
    const expiring = await fleetB.sessions.create();
    const key = await sessionKeyOf(prefix, expiring.id);
    await admin.pexpire(key, 1);
    await expect
      .poll(async () => {
        // Redis expires a key on access if its own cycle has not yet: EXISTS makes it now.
        await admin.exists(key);
        return [...fleetA.expired, ...fleetB.expired];
      }, WAIT)
      .toEqual([due.id, expiring.id]);

    // The relay: send and broadcast (PUBLISH), hold, publish and release (scripts).
    const live = await fleetA.sessions.create();
    const onA = joinRecording(a.store);
    const onB = joinRecording(b.store);
    await Promise.all([onA.member.ready, onB.member.ready]);
    expect(await onA.member.send(onB.member.id, live.id, { n: 1 })).toBe(true);
    await onA.member.broadcast(live.id, { n: 2 });
    expect(await onB.member.hold(live.id, "stream-1")).toEqual([]);
    const first = await onA.member.publish(live.id, "stream-1", { n: 3 }, { store: true });
    const second = await onA.member.publish(live.id, "stream-1", { n: 4 }, { store: true });
    await expect
      .poll(() => onB.messages.map(({ message }) => message), WAIT)
      .toEqual([{ n: 1 }, { n: 2 }]);
    await expect
      .poll(() => onB.events.map(({ event }) => event.message), WAIT)
      .toEqual([{ n: 3 }, { n: 4 }]);
    // A resume elsewhere: the hold replays what followed `first`.
    expect(await onA.member.hold(live.id, "stream-1", { after: first as string })).toEqual([
      { position: second, message: { n: 4 } },
    ]);
    await onA.member.release(live.id, "stream-1");
    await Promise.all([onA.member.leave(), onB.member.leave()]);

    // Clear: one script per batch.
    expect(await fleetB.sessions.clearAll()).toBe(1);
    expect(await fleetA.sessions.getActiveSessionCount()).toBe(0);

    expect(await aclLog(admin)).toEqual([]);
    expect([...a.logs, ...b.logs].filter(({ level }) => level !== "debug")).toEqual([]);
  });

  it("refuses keys and channels outside its patterns, and a store on another prefix", async () => {
    const prefix = `acl-${randomUUID()}`;
    await createUser(prefix);
    const user = connectAsUser();

    // A command the rule allows, on keys the patterns do not match.
    await expect(user.hgetall(`{${prefix}x:0}:s:id`)).rejects.toThrow(/^NOPERM/);
    await expect(user.hgetall(`${prefix}:0:s:id`)).rejects.toThrow(/^NOPERM/);
    await expect(user.hgetall("{other-app:0}:s:id")).rejects.toThrow(/^NOPERM/);
    await expect(user.hgetall(`{${prefix}:0}:s:id`)).resolves.toEqual({});
    // And on channels.
    await expect(user.publish("other-app:events", "d:x:y")).rejects.toThrow(/^NOPERM/);
    await expect(user.publish(`${prefix}:events`, "not for anyone")).resolves.toBe(0);
    // Commands it does not list.
    await expect(user.set(`{${prefix}:0}:s:id`, "x")).rejects.toThrow(/^NOPERM/);
    await expect(user.keys("*")).rejects.toThrow(/^NOPERM/);

    const elsewhere = storeAsUser("other-app", { keyspaceEvents: "sweep-only" });
    const sessions = manage(elsewhere.store).sessions;
    await expect(sessions.create()).rejects.toMatchObject({
      code: "STORE_UNAVAILABLE",
      cause: expect.objectContaining({ message: expect.stringMatching(/^NOPERM/) }),
    });
  });

  it('needs `+config|get +config|set` for keyspaceEvents: "configure", as it says', async () => {
    const prefix = `acl-${randomUUID()}`;
    await createUser(prefix);
    const refused = storeAsUser(prefix, { keyspaceEvents: "configure" });
    await expect(refused.store.ready()).rejects.toMatchObject({ code: "STORE_MISCONFIGURED" });

    await createUser(prefix, readmeAclAddition("+config|get +config|set"));
    await admin.config("SET", "notify-keyspace-events", "");
    const configured = storeAsUser(prefix, { keyspaceEvents: "configure" });
    await configured.store.ready();
    const [, flags] = (await admin.config("GET", "notify-keyspace-events")) as [string, string];
    expect(flags).toContain("E");
    expect(flags).toContain("x");
  });
});
