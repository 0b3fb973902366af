import { randomUUID } from "node:crypto";
import {
  InvalidMetadataError,
  InvalidSessionIdError,
  SessionManager,
  type SessionStore,
  silentSendLog,
} from "@mcp-sessions/session-core";
import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RedisSessionStore } from "../src/index.js";

let server: SpawnedRedis;
let redis: Redis;
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  server = await spawnRedisServer();
  redis = new Redis(server.url);
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((closable) => closable.close()));
});
afterAll(async () => {
  await redis.quit();
  await server.stop();
});

function open(prefix = `t-${randomUUID()}`): { store: RedisSessionStore; prefix: string } {
  const store = new RedisSessionStore({ client: redis, prefix, logger: silentSendLog });
  opened.push(store);
  return { store, prefix };
}

function manage(store: SessionStore, options: { ttl?: number } = {}): SessionManager {
  const manager = new SessionManager({ store, enabled: false, logger: silentSendLog, ...options });
  opened.push(manager);
  return manager;
}

/** Every key under `prefix`, read with SCAN (tests only; the store never scans). */
async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `{${prefix}:*`, "COUNT", 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys.sort();
}

describe("RedisSessionStore", () => {
  it("writes one hash per session with PEXPIREAT at its deadline, and its bucket's index", async () => {
    const { store, prefix } = open();
    const sessions = manage(store);
    const session = await sessions.create({ plan: "pro" }, { owner: "user-1" });

    const keys = await keysUnder(prefix);
    expect(keys).toHaveLength(2);
    const sessionKey = keys.find((key) => key.endsWith(`:s:${session.id}`));
    const dueKey = keys.find((key) => key.endsWith(":due"));
    expect(sessionKey).toMatch(new RegExp(`^\\{${prefix}:\\d+\\}:s:`));
    expect(sessionKey?.split("}")[0]).toBe(dueKey?.split("}")[0]);
    expect(await redis.pexpiretime(sessionKey as string)).toBe(session.expiresAt);
    expect(Number(await redis.zscore(dueKey as string, session.id))).toBe(session.expiresAt);
  });

  it("leaves no key behind once every session has ended", async () => {
    const { store, prefix } = open();
    const sessions = manage(store);
    const created = await Promise.all(Array.from({ length: 50 }, () => sessions.create()));
    expect((await keysUnder(prefix)).length).toBeGreaterThan(50);

    for (const session of created.slice(0, 25)) await sessions.cleanup(session.id);
    await store.sweep(Date.now() + 2 * 86_400_000);

    expect(await keysUnder(prefix)).toEqual([]);
  });

  it("keeps two prefixes on one Redis apart", async () => {
    const first = open();
    const second = open();
    const session = await manage(first.store).create();

    expect(await manage(second.store).get(session.id)).toBeUndefined();
    expect(await second.store.count(Date.now())).toBe(0);
    expect(await second.store.clear()).toBe(0);
    expect(await manage(first.store).get(session.id)).toMatchObject({ id: session.id });
  });

  it("survives a script cache flush mid-run (NOSCRIPT falls back to EVAL)", async () => {
    const { store } = open();
    const sessions = manage(store);
    const session = await sessions.create();
    await redis.script("FLUSH");

    expect(await sessions.touch(session.id)).toMatchObject({ id: session.id });
    expect(await sessions.cleanup(session.id)).toBe(true);
    expect(await sessions.create()).toMatchObject({ id: expect.any(String) });
  });

  it.each([
    ["a CR/LF", "abc\r\ndef"],
    ["a space", "abc def"],
    ["10 KB", "x".repeat(10_240)],
    ["non-ASCII", "sessión"],
    ["empty", ""],
  ])("refuses an id with %s before anything reaches Redis", async (_label, id) => {
    const { store, prefix } = open();
    const sessions = manage(store);

    await expect(sessions.register(id)).rejects.toBeInstanceOf(InvalidSessionIdError);
    await expect(sessions.get(id)).rejects.toMatchObject({ code: "INVALID_SESSION_ID" });
    await expect(sessions.touch(id)).rejects.toMatchObject({ code: "INVALID_SESSION_ID" });
    expect(await keysUnder(prefix)).toEqual([]);
  });

  it("stores glob characters literally: `*`, `?` and `[` never match another session", async () => {
    const { store, prefix } = open();
    const sessions = manage(store);
    await sessions.register("ab");
    await sessions.register("a*");
    await sessions.register("a?");
    await sessions.register("[a]b");

    expect(await sessions.get("a[b]")).toBeUndefined();
    expect(await sessions.cleanup("a*")).toBe(true);
    expect(await sessions.get("ab")).toMatchObject({ id: "ab" });
    expect(await sessions.get("a?")).toMatchObject({ id: "a?" });
    const sessionKeys = (await keysUnder(prefix)).filter((key) => key.includes("}:s:"));
    expect(sessionKeys.map((key) => key.slice(key.indexOf("}:s:") + 4)).sort()).toEqual([
      "[a]b",
      "a?",
      "ab",
    ]);
  });

  it.each([
    [
      "circular",
      () => {
        const value: Record<string, unknown> = {};
        value.self = value;
        return value;
      },
    ],
    ["BigInt", () => ({ big: 10n })],
    ["a function", () => ({ run: () => 1 })],
    ["oversize", () => ({ blob: "x".repeat(20_000) })],
    ["a __proto__ key", () => JSON.parse('{"__proto__": {"polluted": true}}')],
  ])("refuses %s metadata with a typed error and writes no key", async (_label, make) => {
    const { store, prefix } = open();
    const sessions = manage(store);

    await expect(sessions.create(make())).rejects.toBeInstanceOf(InvalidMetadataError);
    expect(await keysUnder(prefix)).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses stored metadata that was altered to carry `__proto__`", async () => {
    const { store, prefix } = open();
    const sessions = manage(store);
    const session = await sessions.create({ ok: true });
    const [sessionKey] = (await keysUnder(prefix)).filter((key) => key.includes(":s:"));
    await redis.hset(sessionKey as string, "m", '{"__proto__":{"polluted":true}}');

    await expect(sessions.get(session.id)).rejects.toMatchObject({ code: "INVALID_METADATA" });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("rejects bad options with a TypeError that names the option", () => {
    expect(() => new RedisSessionStore({ client: redis, prefix: "a{b}" })).toThrow(/`prefix`/);
    expect(() => new RedisSessionStore({ client: redis, buckets: 0 })).toThrow(/`buckets`/);
    expect(() => new RedisSessionStore({ url: "http://x" })).toThrow(/redis:\/\//);
    expect(() => new RedisSessionStore({ client: redis, url: server.url })).toThrow(/either/);
    expect(
      () => new RedisSessionStore({ client: redis, keyspaceEvents: "maybe" as "configure" }),
    ).toThrow(/`keyspaceEvents`/);
  });

  it("never closes a client it was given, and closes one it made", async () => {
    const { store } = open();
    await store.ready();
    await store.close();
    expect(await redis.ping()).toBe("PONG");

    const owned = new RedisSessionStore({ url: server.url, prefix: `t-${randomUUID()}` });
    await owned.ready();
    const before = await clientCount();
    await owned.close();
    await expect.poll(clientCount, { timeout: 5_000 }).toBeLessThan(before);
  });
});

async function clientCount(): Promise<number> {
  const list = (await redis.client("LIST")) as string;
  return list.trim().split("\n").length;
}
