import { randomUUID } from "node:crypto";
import {
  type EndReason,
  isSessionError,
  SessionManager,
  type SessionManagerOptions,
  type SessionRecord,
  silentSendLog,
} from "@mcp-sessions/session-core";
import { startRedisCluster } from "@mcp-sessions/session-testing/redis";
import { Cluster, type ClusterOptions } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { RedisSessionStore } from "../../src/index.js";
import { KeyLayout } from "../../src/keys.js";
import { makeDueSoon, OffsetClock } from "../support/clock.js";

/** Redis expires keys on its own schedule; these bounds are generous, a passing run is quick. */
const EXPIRY_WAIT = { timeout: 20_000, interval: 50 } as const;
const SIGNAL_WAIT = { timeout: 10_000, interval: 20 } as const;
const DEFAULT_BUCKETS = 16;
/**
 * The ttl of sessions that must not expire while a test sets them up; `makeDueSoon` then gives
 * them a deadline shortly ahead, in real time.
 */
const HOUR = 3_600_000;

const server = await startRedisCluster({ masters: 3 });
/** For the tests' own reads (SCAN, KEYSLOT, CLUSTER SLOTS); stores get clients of their own. */
const admin = connect();
const openManagers: SessionManager[] = [];
const openStores: RedisSessionStore[] = [];
const clients: Cluster[] = [];

afterEach(async () => {
  await Promise.all(openManagers.splice(0).map((manager) => manager.close()));
  await Promise.all(openStores.splice(0).map((store) => store.close()));
  await Promise.all(clients.splice(0).map((client) => client.quit()));
});
afterAll(async () => {
  await admin.quit();
  await server.stop();
});

/** A Cluster client that knows only the given startup nodes and finds the rest itself. */
function connect(
  startupNodes = server.nodes,
  options: Pick<ClusterOptions, "slotsRefreshInterval"> = {},
): Cluster {
  return new Cluster([...startupNodes], {
    redisOptions: { maxRetriesPerRequest: 1 },
    ...options,
  });
}

/** A store on a Cluster client of its own; the test's afterEach closes both. */
function openStore(prefix: string, client = connect()): RedisSessionStore {
  clients.push(client);
  const store = new RedisSessionStore({ client, prefix, logger: silentSendLog });
  openStores.push(store);
  return store;
}

function manage(
  store: RedisSessionStore,
  options: Omit<SessionManagerOptions, "store"> = {},
): SessionManager {
  const manager = new SessionManager({ store, enabled: false, logger: silentSendLog, ...options });
  openManagers.push(manager);
  return manager;
}

function uniquePrefix(): string {
  return `cluster-${randomUUID()}`;
}

async function keySlot(key: string): Promise<number> {
  return Number(await admin.cluster("KEYSLOT", key));
}

/** Which master ("host:port") serves each slot, from CLUSTER SLOTS. */
async function slotOwners(): Promise<(slot: number) => string> {
  const ranges = await admin.cluster("SLOTS");
  return (slot) => {
    const master = ranges.find(([start, end]) => start <= slot && slot <= end)?.[2];
    if (master === undefined) throw new Error(`No master serves slot ${slot}`);
    return `${master[0]}:${master[1]}`;
  };
}

/** The master of each bucket's due index under `prefix`, by bucket. */
async function bucketMasters(prefix: string, buckets = DEFAULT_BUCKETS): Promise<string[]> {
  const ownerOf = await slotOwners();
  const layout = new KeyLayout(prefix, buckets);
  return Promise.all(layout.allDue().map(async (due) => ownerOf(await keySlot(due))));
}

/** Every key under `prefix` on each master, read with SCAN (tests only; the store never scans). */
async function keysByMaster(prefix: string): Promise<Map<string, string[]>> {
  const byMaster = new Map<string, string[]>();
  for (const node of admin.nodes("master")) {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const [next, batch] = await node.scan(cursor, "MATCH", `{${prefix}:*`, "COUNT", 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== "0");
    byMaster.set(`${node.options.host}:${node.options.port}`, keys);
  }
  return byMaster;
}

/** Ids, as many per master as asked, whose buckets under `prefix` live on that master. */
function idsPerMaster(prefix: string, masterOfBucket: readonly string[], perMaster: number) {
  const layout = new KeyLayout(prefix, masterOfBucket.length);
  const byMaster = new Map<string, string[]>();
  for (const master of new Set(masterOfBucket)) byMaster.set(master, []);
  while ([...byMaster.values()].some((ids) => ids.length < perMaster)) {
    const id = randomUUID();
    const ids = byMaster.get(masterOfBucket[layout.bucketOf(id)] as string) as string[];
    if (ids.length < perMaster) ids.push(id);
  }
  return byMaster;
}

/** A prefix whose default buckets are spread over every master, so each master holds sessions. */
async function prefixOnEveryMaster(): Promise<{ prefix: string; masterOfBucket: string[] }> {
  const masters = server.nodes.length;
  for (let attempt = 0; attempt < 20; attempt++) {
    const prefix = uniquePrefix();
    const masterOfBucket = await bucketMasters(prefix);
    if (new Set(masterOfBucket).size === masters) return { prefix, masterOfBucket };
  }
  throw new Error(`No prefix in 20 tries spread its buckets over all ${masters} masters`);
}

/** Connections subscribed to `channel` on each master (PUBSUB NUMSUB is per node in a Cluster). */
async function subscribersPerMaster(channel: string): Promise<number[]> {
  return Promise.all(
    admin.nodes("master").map(async (node) => {
      const [, count] = await node.pubsub("NUMSUB", channel);
      return Number(count);
    }),
  );
}

function countBy<T>(items: readonly T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return counts;
}

describe("RedisSessionStore on Redis Cluster", () => {
  it("puts every session key in the slot of its bucket's due index, and buckets on several masters", async () => {
    const prefix = uniquePrefix();
    const sessions = manage(openStore(prefix));
    const globIds = [
      "*",
      "?",
      "[",
      "]",
      "{",
      "}",
      "{}",
      "}{",
      "*?[]{}",
      "[a-z]*",
      "{a}",
      "a{b}c",
      `{${prefix}:0}`,
      "\\*",
    ];
    const ids = [...globIds, ...Array.from({ length: 300 }, () => randomUUID())];
    for (const id of ids) await sessions.register(id);

    const byMaster = await keysByMaster(prefix);
    const found = new Map<string, { key: string; dueKey: string; master: string }>();
    for (const [master, keys] of byMaster) {
      for (const key of keys) {
        // The prefix holds no "}", so the first one closes the store's hash tag.
        const tagEnd = key.indexOf("}") + 1;
        if (key.slice(tagEnd).startsWith(":s:")) {
          found.set(key.slice(tagEnd + 3), { key, dueKey: `${key.slice(0, tagEnd)}:due`, master });
        }
      }
    }
    expect([...found.keys()].sort()).toEqual([...ids].sort());
    for (const { key, dueKey, master } of found.values()) {
      expect(byMaster.get(master)).toContain(dueKey);
      expect({ key, slot: await keySlot(key) }).toEqual({ key, slot: await keySlot(dueKey) });
    }

    const mastersWithBuckets = [...byMaster].filter(([, keys]) =>
      keys.some((key) => key.endsWith("}:due")),
    );
    const dueKeys = [...byMaster.values()].flat().filter((key) => key.endsWith("}:due"));
    expect(dueKeys).toHaveLength(DEFAULT_BUCKETS);
    expect(mastersWithBuckets.length).toBeGreaterThan(1);
  });

  it("expires sessions on every master through keyspace events alone, each handler once", async () => {
    const { prefix, masterOfBucket } = await prefixOnEveryMaster();
    // One startup node: the store must find the other masters through the client's topology.
    const store = openStore(prefix, connect(server.nodes.slice(0, 1)));
    const clock = new OffsetClock();
    const sessions = manage(store, { ttl: HOUR, clock });
    const handled: string[] = [];
    sessions.setExpirationHandler((id) => {
      handled.push(id);
    });
    await store.ready();
    const byMaster = idsPerMaster(prefix, masterOfBucket, 3);
    expect(byMaster.size).toBe(3);
    const ids = [...byMaster.values()].flat();

    for (const id of ids) await sessions.register(id);
    await makeDueSoon(sessions, clock, ids);

    // No sweep runs anywhere: only an expired-key event from each master can claim these.
    await expect.poll(() => [...new Set(handled)].sort(), EXPIRY_WAIT).toEqual([...ids].sort());
    await sessions.close();
    expect(handled).toHaveLength(ids.length);
    expect([...(await keysByMaster(prefix)).values()].flat()).toEqual([]);
  });

  it("holds one expired-key subscriber per master, even while topology events arrive, and none after close", async () => {
    const expiredChannel = "__keyevent@0__:expired";
    const none = server.nodes.map(() => 0);
    await expect
      .poll(() => subscribersPerMaster(expiredChannel), {
        ...SIGNAL_WAIT,
        message: "expired-key subscribers of earlier tests were not released",
      })
      .toEqual(none);
    const prefix = uniquePrefix();

    for (let round = 0; round < 5; round++) {
      // Every slot refresh is a topology event for the store, so some arrive while it starts.
      const client = connect(server.nodes.slice(0, 1), { slotsRefreshInterval: 1 });
      clients.push(client);
      const store = new RedisSessionStore({ client, prefix, logger: silentSendLog });
      await store.ready();
      expect(await subscribersPerMaster(expiredChannel)).toEqual(server.nodes.map(() => 1));
      const storeChannel = await subscribersPerMaster(`${prefix}:events`);
      expect(storeChannel.reduce((sum, count) => sum + count, 0)).toBe(1);

      await store.close();
      await client.quit();

      await expect
        .poll(() => subscribersPerMaster(expiredChannel), {
          ...SIGNAL_WAIT,
          message: `expired-key subscribers left after close, round ${round}`,
        })
        .toEqual(none);
      await expect
        .poll(() => subscribersPerMaster(`${prefix}:events`), {
          ...SIGNAL_WAIT,
          message: `store channel subscribers left after close, round ${round}`,
        })
        .toEqual(none);
    }
  });

  it("subscribes again on a master whose subscriber connection dropped, with no topology change", async () => {
    const { prefix, masterOfBucket } = await prefixOnEveryMaster();
    const store = openStore(prefix);
    const clock = new OffsetClock();
    const sessions = manage(store, { ttl: HOUR, clock });
    const handled: string[] = [];
    sessions.setExpirationHandler((id) => {
      handled.push(id);
    });
    await store.ready();
    const expiredChannel = "__keyevent@0__:expired";
    const one = server.nodes.map(() => 1);
    expect(await subscribersPerMaster(expiredChannel)).toEqual(one);

    // Every master stays up and keeps its slots: only the subscriber connections are cut.
    const killed = await Promise.all(
      admin.nodes("master").map((node) => node.call("CLIENT", "KILL", "TYPE", "pubsub")),
    );
    expect(killed.every((count) => Number(count) >= 1)).toBe(true);
    await expect
      .poll(() => subscribersPerMaster(expiredChannel), {
        ...SIGNAL_WAIT,
        message: "expired-key subscribers did not come back",
      })
      .toEqual(one);
    await expect
      .poll(
        async () =>
          (await subscribersPerMaster(`${prefix}:events`)).reduce((sum, count) => sum + count, 0),
        { ...SIGNAL_WAIT, message: "the store channel subscriber did not come back" },
      )
      .toBe(1);
    const ids = [...idsPerMaster(prefix, masterOfBucket, 2).values()].flat();
    for (const id of ids) await sessions.register(id);
    await makeDueSoon(sessions, clock, ids);

    // No sweep runs: only expired-key events, on the new connections, can claim these.
    await expect.poll(() => [...handled].sort(), EXPIRY_WAIT).toEqual([...ids].sort());
  });

  describe("a fleet of two instances, each with its own Cluster client, on one prefix", () => {
    function fleet(options: Omit<SessionManagerOptions, "store"> = {}) {
      const prefix = uniquePrefix();
      const stores = [
        openStore(prefix, connect(server.nodes.slice(0, 1))),
        openStore(prefix, connect(server.nodes.slice(1, 2))),
      ] as const;
      const managers = stores.map((store) => manage(store, options));
      const ended = managers.map((manager) => {
        const signals: { id: string; reason: EndReason }[] = [];
        manager.on("ended", (signal) => {
          signals.push(signal);
        });
        return signals;
      });
      return { stores, managers, ended };
    }

    it("serves a session created on one instance from the other, and ends it everywhere", async () => {
      const { stores, managers, ended } = fleet({ ttl: 60_000 });
      await Promise.all(stores.map((store) => store.ready()));
      const [first, second] = managers as [SessionManager, SessionManager];
      const owner = { owner: "user-1" };
      const session = await first.create({ plan: "pro" }, owner);

      expect(await second.get(session.id, owner)).toStrictEqual(session);
      expect(await second.get(session.id, { owner: "user-2" })).toBeUndefined();
      const touched = await second.touch(session.id, owner);
      expect(touched).toMatchObject({ id: session.id, metadata: { plan: "pro" } });
      expect(await first.get(session.id, owner)).toStrictEqual(touched);
      expect(await first.getActiveSessionCount()).toBe(1);

      expect(await second.cleanup(session.id)).toBe(true);

      for (const signals of ended) {
        await expect
          .poll(() => signals.filter((signal) => signal.id === session.id), SIGNAL_WAIT)
          .toEqual([{ id: session.id, reason: "destroyed" }]);
      }
      expect(await first.get(session.id, owner)).toBeUndefined();
      expect(await first.touch(session.id, owner)).toBeUndefined();
      expect(await first.cleanup(session.id)).toBe(false);
    });

    it("runs the handler of each of 300 expiring sessions exactly once across the fleet", async () => {
      const { stores, managers, ended } = fleet({
        ttl: 1_000,
        cleanupInterval: 200,
        enabled: true,
      });
      await Promise.all(stores.map((store) => store.ready()));
      const handled: string[] = [];
      for (const manager of managers) {
        manager.setExpirationHandler((id) => {
          handled.push(id);
        });
      }
      const created = await Promise.all(
        Array.from({ length: 300 }, (_, n) => (managers[n % 2] as SessionManager).create()),
      );
      const ids = created.map((session) => session.id).sort();

      await expect.poll(() => [...new Set(handled)].sort(), EXPIRY_WAIT).toEqual(ids);
      for (const signals of ended) {
        await expect
          .poll(
            () => [...new Set(signals.map((signal) => `${signal.id}:${signal.reason}`))].length,
            SIGNAL_WAIT,
          )
          .toBe(ids.length);
        expect(new Set(signals.map((signal) => signal.reason))).toEqual(new Set(["expired"]));
      }
      // Closing waits for every claim and handler in flight: a late duplicate would land here.
      await Promise.all(managers.map((manager) => manager.close()));
      expect([...countBy(handled).values()].filter((count) => count !== 1)).toEqual([]);
      expect(handled).toHaveLength(ids.length);
    });
  });

  it("refuses sequential creates past maxSessions with SESSION_LIMIT_REACHED, fleet-wide", async () => {
    const { prefix, masterOfBucket } = await prefixOnEveryMaster();
    // The limit is reached with sessions on every master: the count must add up all of them.
    const ids = [...idsPerMaster(prefix, masterOfBucket, 4).values()].flat();
    const limit = ids.length;
    const options = { maxSessions: limit, idGenerator: () => ids.shift() ?? randomUUID() };
    const first = manage(openStore(prefix), options);
    const second = manage(openStore(prefix), options);

    const created: SessionRecord[] = [];
    for (let n = 0; n < limit; n++) created.push(await (n % 2 === 0 ? first : second).create());

    for (const manager of [first, second]) {
      const refused = await manager.create().then(
        () => "created",
        (error: unknown) => (isSessionError(error) ? error.code : error),
      );
      expect(refused).toBe("SESSION_LIMIT_REACHED");
      await expect(manager.register(randomUUID())).rejects.toMatchObject({
        code: "SESSION_LIMIT_REACHED",
      });
    }
    expect(await first.getActiveSessionCount()).toBe(limit);

    expect(await second.cleanup((created[0] as SessionRecord).id)).toBe(true);
    await expect(first.create()).resolves.toMatchObject({ id: expect.any(String) });
    await expect(second.create()).rejects.toMatchObject({ code: "SESSION_LIMIT_REACHED" });
  });
});
