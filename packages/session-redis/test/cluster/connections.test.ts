import { randomUUID } from "node:crypto";
import { silentSendLog } from "@mcp-sessions/session-core";
import { startRedisCluster } from "@mcp-sessions/session-testing/redis";
import { Cluster, Redis } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { RedisSessionStore } from "../../src/index.js";
import { keySlot } from "../../src/key-slot.js";
import { KeyLayout } from "../../src/keys.js";
import { joinRecording, sessionRecord } from "../support/relay.js";

// The README's "Connections" on a Cluster of M masters: the client's own connections (ioredis
// opens one per master it sends commands to), and per master one subscription connection for
// classic channels and one for sharded channels. Counted with CLIENT LIST on every node.

const WAIT = { timeout: 20_000, interval: 50 } as const;
const BUCKETS = 16;
const ADMIN = "test-admin";

const server = await startRedisCluster({ masters: 3 });
/** One plain connection per node, for CLIENT LIST and KEYSLOT; left out of every count. */
const direct = server.nodes.map(
  ({ host, port }) => new Redis(port, host, { connectionName: ADMIN }),
);
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await Promise.all(direct.map((connection) => connection.quit()));
  await server.stop();
});

/** Per node, the connections of others than the test, counted by name ("" when unnamed). */
async function connectionsPerNode(): Promise<Record<string, number>[]> {
  return Promise.all(
    direct.map(async (node) => {
      const counts: Record<string, number> = {};
      for (const line of String(await node.client("LIST"))
        .trim()
        .split("\n")) {
        const name = /(?:^| )name=(\S*)/.exec(line)?.[1] ?? "";
        // ioredis reads the topology on a short-lived connection of its own, named so.
        if (name === ADMIN || name.endsWith("(refresher)")) continue;
        counts[name] = (counts[name] ?? 0) + 1;
      }
      return counts;
    }),
  );
}

/** Which master ("host:port") serves each bucket of `prefix`. */
async function bucketMasters(prefix: string): Promise<string[]> {
  const [first] = direct as [Redis];
  const ranges = await first.cluster("SLOTS");
  const layout = new KeyLayout(prefix, BUCKETS);
  return Promise.all(
    layout.allDue().map(async (due) => {
      const slot = Number(await first.cluster("KEYSLOT", due));
      const master = ranges.find(([start, end]) => start <= slot && slot <= end)?.[2];
      return `${master?.[0]}:${master?.[1]}`;
    }),
  );
}

/** A prefix whose buckets, and so a relay member's sharded channels, are on every master. */
async function prefixOnEveryMaster(): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const prefix = `cluster-${randomUUID()}`;
    if (new Set(await bucketMasters(prefix)).size === server.nodes.length) return prefix;
  }
  throw new Error(
    `No prefix in 20 tries spread its buckets over all ${server.nodes.length} masters`,
  );
}

describe("connections on a Cluster", () => {
  it("opens, per master, one subscription connection for classic channels and one for sharded", async () => {
    const prefix = await prefixOnEveryMaster();
    const client = new Cluster([...server.nodes], { redisOptions: { maxRetriesPerRequest: 1 } });
    const store = new RedisSessionStore({ client, prefix, logger: silentSendLog });
    cleanups.push(
      () => client.quit(),
      () => store.close(),
    );
    const { member } = joinRecording(store);
    await Promise.all([store.ready(), member.ready]);
    // A session in every bucket: the client has sent commands to every master.
    const layout = new KeyLayout(prefix, BUCKETS);
    const buckets = new Set<number>();
    while (buckets.size < BUCKETS) {
      const session = sessionRecord();
      if (buckets.has(layout.bucketOf(session.id))) continue;
      buckets.add(layout.bucketOf(session.id));
      expect(await store.create(session)).toBe("created");
    }

    const masters = server.nodes.length;
    const perMaster = { "": 1, [`${prefix}:subscriber`]: 1, [`${prefix}:ssubscriber`]: 1 };
    await expect.poll(connectionsPerNode, WAIT).toEqual(server.nodes.map(() => perMaster));
    // The README's formula: M command connections of the client, M + M of the store.
    const total = (await connectionsPerNode())
      .flatMap((counts) => Object.values(counts))
      .reduce((sum, count) => sum + count, 0);
    expect(total).toBe(3 * masters);

    await store.close();
    // The client's own connections stay: it is yours.
    await expect.poll(connectionsPerNode, WAIT).toEqual(server.nodes.map(() => ({ "": 1 })));
  });

  it('needs one subscription connection in all with "sweep-only" and no relay member', async () => {
    const prefix = `cluster-${randomUUID()}`;
    const client = new Cluster([...server.nodes], { redisOptions: { maxRetriesPerRequest: 1 } });
    const store = new RedisSessionStore({
      client,
      prefix,
      keyspaceEvents: "sweep-only",
      logger: silentSendLog,
    });
    cleanups.push(
      () => client.quit(),
      () => store.close(),
    );
    await store.ready();

    const ours = async () =>
      (await connectionsPerNode()).reduce(
        (sum, counts) =>
          sum + (counts[`${prefix}:subscriber`] ?? 0) + (counts[`${prefix}:ssubscriber`] ?? 0),
        0,
      );
    expect(await ours()).toBe(1);
  });

  it("computes the slot of a key or sharded channel as Redis does", async () => {
    const layout = new KeyLayout("app", BUCKETS);
    const names = [
      ...layout.allDue(),
      `${layout.shardedMemberChannelPrefix(3)}${randomUUID()}`,
      "app:events",
      "no-tag",
      "{}",
      "{}tag",
      "a{}b{c}",
      "x{y}z{w}",
      "{only-open",
      "only-close}",
      "ünïcødé{ключ}",
      "",
    ];
    const [first] = direct as [Redis];
    const fromRedis = await Promise.all(names.map((name) => first.cluster("KEYSLOT", name)));
    expect(names.map(keySlot)).toEqual(fromRedis.map(Number));
  });
});
