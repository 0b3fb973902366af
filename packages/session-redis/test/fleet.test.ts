import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { notExactlyOnce, StoreFleet, unclaimedCount } from "./support/store-fleet.js";

// Several instances, each with its own client, store and manager, as separate processes would
// be, sharing one Redis and one prefix.

let server: SpawnedRedis;
let admin: Redis;
const fleets: StoreFleet[] = [];

beforeAll(async () => {
  server = await spawnRedisServer();
  admin = new Redis(server.url);
});
afterEach(async () => {
  await Promise.all(fleets.splice(0).map((fleet) => fleet.close()));
});
afterAll(async () => {
  await admin.quit();
  await server.stop();
});

function fleet(): StoreFleet {
  const created = new StoreFleet(server.url);
  fleets.push(created);
  return created;
}

const SIGNAL_WAIT = { timeout: 10_000, interval: 20 } as const;

describe("a fleet sharing one Redis", () => {
  it.each([2, 3])(
    "with %i instances, sees, touches and deletes a session made on another; every instance hears it end",
    async (size) => {
      const shared = fleet();
      const instances = await Promise.all(Array.from({ length: size }, () => shared.add()));
      // Made on the first, touched on the second, deleted on the last.
      const [creator, toucher] = instances;
      const deleter = instances.at(-1);
      if (!creator || !toucher || !deleter) throw new Error(`${size} instances expected`);

      const session = await creator.sessions.create({ plan: "pro" });
      for (const instance of instances) {
        expect(await instance.sessions.get(session.id)).toEqual(session);
      }

      // Let the clock move, so the touch visibly moves the deadline.
      await expect.poll(() => Date.now()).toBeGreaterThan(session.lastAccessedAt);
      const touched = await toucher.sessions.touch(session.id);
      expect(touched?.lastAccessedAt).toBeGreaterThan(session.lastAccessedAt);
      expect(touched?.expiresAt).toBeGreaterThan(session.expiresAt);
      for (const instance of instances) {
        expect(await instance.sessions.get(session.id)).toEqual(touched);
      }

      expect(await deleter.sessions.cleanup(session.id)).toBe(true);
      for (const instance of instances) {
        expect(await instance.sessions.get(session.id)).toBeUndefined();
        expect(await instance.sessions.touch(session.id)).toBeUndefined();
      }
      for (const instance of instances) {
        await expect
          .poll(() => instance.endedCount(session.id, "destroyed"), SIGNAL_WAIT)
          .toBeGreaterThanOrEqual(1);
      }
      for (const instance of instances) {
        expect(instance.destroyed).toEqual(instance === deleter ? [session.id] : []);
        expect(instance.endedCount(session.id, "expired")).toBe(0);
        expect(instance.handled).toEqual([]);
      }
    },
  );

  it("runs each expiration handler exactly once across three instances, and every instance hears every end", async () => {
    const shared = fleet();
    const options = { manager: { ttl: 500, cleanupInterval: 200 } } as const;
    const instances = await Promise.all([
      shared.add(options),
      shared.add(options),
      shared.add(options),
    ]);
    const total = 1_000;

    const created = await Promise.all(
      Array.from({ length: total }, (_, index) =>
        (instances[index % instances.length] as (typeof instances)[number]).sessions.create(),
      ),
    );
    const ids = created.map((session) => session.id);
    expect(new Set(ids).size).toBe(total);

    await expect
      .poll(() => shared.handlerRunCount(), { timeout: 20_000, interval: 50 })
      .toBeGreaterThanOrEqual(total);
    // Once nothing waits in the due indexes, no further claim can be won.
    await expect.poll(() => unclaimedCount(admin, shared.prefix), SIGNAL_WAIT).toBe(0);
    for (const instance of instances) {
      await expect
        .poll(
          () => ids.filter((id) => instance.endedCount(id, "expired") === 0).length,
          SIGNAL_WAIT,
        )
        .toBe(0);
    }

    expect(notExactlyOnce(ids, shared.handlerRuns())).toEqual([]);
    expect(shared.handlerRunCount()).toBe(total);
    for (const instance of instances) {
      expect(instance.ended.filter((event) => event.reason === "destroyed")).toEqual([]);
      expect(instance.destroyed).toEqual([]);
    }
  });

  it("keeps a session bound to its owner invisible to another owner on another instance", async () => {
    const shared = fleet();
    const [a, b, c] = await Promise.all([shared.add(), shared.add(), shared.add()]);
    if (!a || !b || !c) throw new Error("three instances expected");

    const session = await a.sessions.create({ plan: "pro" }, { owner: "alice" });
    await expect.poll(() => Date.now()).toBeGreaterThan(session.lastAccessedAt);

    expect(await b.sessions.get(session.id, { owner: "bob" })).toBeUndefined();
    expect(await b.sessions.touch(session.id, { owner: "bob" })).toBeUndefined();
    // The refused touch left the deadline where it was.
    expect(await c.sessions.get(session.id, { owner: "alice" })).toEqual(session);

    const refusals = b.logs.filter(
      (entry) => entry.level === "warning" && entry.logger === "session-core/manager",
    );
    expect(refusals).toHaveLength(2);
    for (const entry of refusals) {
      const text = JSON.stringify(entry);
      expect(text).not.toContain(session.id);
      expect(text).not.toContain("alice");
      expect(text).not.toContain("bob");
    }

    const touched = await c.sessions.touch(session.id, { owner: "alice" });
    expect(touched?.expiresAt).toBeGreaterThan(session.expiresAt);
    expect(await b.sessions.get(session.id, { owner: "alice" })).toEqual(touched);
  });
});
