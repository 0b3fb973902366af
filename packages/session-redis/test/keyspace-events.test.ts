import { randomUUID } from "node:crypto";
import { SessionManager, silentSendLog } from "@mcp-sessions/session-core";
import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { RedisSessionStore } from "../src/index.js";
import { makeDueSoon, OffsetClock } from "./support/clock.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function server(args: string[]): Promise<{ server: SpawnedRedis; redis: Redis }> {
  const spawned = await spawnRedisServer({ args });
  const redis = new Redis(spawned.url, { maxRetriesPerRequest: 1 });
  redis.on("error", () => {});
  cleanups.push(
    () => spawned.stop(),
    () => redis.quit().catch(() => redis.disconnect()),
  );
  return { server: spawned, redis };
}

function store(redis: Redis, keyspaceEvents: "configure" | "subscribe" | "sweep-only") {
  const created = new RedisSessionStore({
    client: redis,
    prefix: `t-${randomUUID()}`,
    keyspaceEvents,
    logger: silentSendLog,
  });
  cleanups.push(() => created.close());
  return created;
}

async function flags(redis: Redis): Promise<string> {
  const [, value] = (await redis.config("GET", "notify-keyspace-events")) as [string, string];
  return value;
}

describe("notify-keyspace-events", () => {
  it('"configure" adds `Ex` to a server that has none, keeping other flags', async () => {
    const { redis } = await server(["--notify-keyspace-events", "Kg"]);
    await store(redis, "configure").ready();

    const value = await flags(redis);
    for (const flag of ["K", "g", "E", "x"]) expect(value).toContain(flag);
  });

  it("fails with STORE_MISCONFIGURED naming `Ex` when the flags are off and CONFIG is refused", async () => {
    const { redis } = await server([
      "--notify-keyspace-events",
      "",
      "--rename-command",
      "CONFIG",
      "",
    ]);
    const error = await store(redis, "configure")
      .ready()
      .then(
        () => undefined,
        (reason: unknown) => reason,
      );

    expect(error).toMatchObject({ code: "STORE_MISCONFIGURED", name: "StoreConfigurationError" });
    expect((error as Error).message).toContain("`Ex`");
    expect((error as Error).message).toContain('keyspaceEvents: "sweep-only"');
  });

  it('"sweep-only" starts without CONFIG and still expires sessions, each handler once', async () => {
    const { redis } = await server([
      "--notify-keyspace-events",
      "",
      "--rename-command",
      "CONFIG",
      "",
    ]);
    const sweepOnly = store(redis, "sweep-only");
    await sweepOnly.ready();
    const sessions = new SessionManager({
      store: sweepOnly,
      ttl: 200,
      cleanupInterval: 100,
      logger: silentSendLog,
    });
    cleanups.push(() => sessions.close());
    const expired: string[] = [];
    sessions.setExpirationHandler((id) => {
      expired.push(id);
    });

    const created = await Promise.all(Array.from({ length: 20 }, () => sessions.create()));

    await expect.poll(() => expired.length, { timeout: 20_000 }).toBe(created.length);
    expect(new Set(expired)).toEqual(new Set(created.map((session) => session.id)));
  });

  it("an expired-key event claims the session without waiting for a sweep", async () => {
    const { redis } = await server(["--notify-keyspace-events", ""]);
    const eventDriven = store(redis, "configure");
    await eventDriven.ready();
    // No sweep timer: only the keyspace event can claim. Made under an hour's ttl, then due soon.
    const clock = new OffsetClock();
    const sessions = new SessionManager({
      store: eventDriven,
      ttl: 3_600_000,
      enabled: false,
      clock,
      logger: silentSendLog,
    });
    cleanups.push(() => sessions.close());
    const expired: string[] = [];
    sessions.setExpirationHandler((id) => {
      expired.push(id);
    });

    const session = await sessions.create();
    await makeDueSoon(sessions, clock, [session.id]);

    await expect.poll(() => expired, { timeout: 20_000 }).toEqual([session.id]);
  });

  it("sets the flags again after Redis restarts without them", async () => {
    const { server: spawned, redis } = await server(["--notify-keyspace-events", ""]);
    await store(redis, "configure").ready();
    expect(await flags(redis)).toContain("x");

    await spawned.restart();

    await expect
      .poll(async () => flags(redis).catch(() => ""), { timeout: 15_000, interval: 100 })
      .toContain("x");
  });
});
