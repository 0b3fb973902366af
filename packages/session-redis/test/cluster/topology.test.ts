import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { SessionManager, silentSendLog } from "@mcp-sessions/session-core";
import {
  type SpawnedRedis,
  spawnRedisServer,
  startRedisCluster,
} from "@mcp-sessions/session-testing/redis";
import { Cluster, Redis } from "ioredis";
import { afterAll, expect, it } from "vitest";
import { RedisSessionStore } from "../../src/index.js";
import { KeyLayout } from "../../src/keys.js";
import { makeDueSoon, OffsetClock } from "../support/clock.js";
import { joinRecording, type RecordingMember } from "../support/relay.js";

/** Gossip and Redis key expiry take their time; a passing run is quick. */
const CLUSTER_WAIT = { timeout: 20_000, interval: 50 } as const;
const EXPIRED_CHANNEL = "__keyevent@0__:expired";
/** Redis Cluster listens for its node-to-node bus on the client port plus this. */
const CLUSTER_BUS_OFFSET = 10_000;

const server = await startRedisCluster({ masters: 3 });
/** One plain connection per node, for CLUSTER commands that must go to that node. */
const direct = server.nodes.map(({ host, port }) => new Redis(port, host));
let added: { server: SpawnedRedis; connection: Redis } | undefined;

afterAll(async () => {
  await Promise.all([...direct, ...(added ? [added.connection] : [])].map((c) => c.quit()));
  await added?.server.stop();
  await server.stop();
});

/** A port on 127.0.0.1 that is free, and whose cluster bus port is free too. */
async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = await listenAndClose(0);
    if (port + CLUSTER_BUS_OFFSET > 65_535) continue;
    if (await isFree(port + CLUSTER_BUS_OFFSET)) return port;
  }
}

async function isFree(port: number): Promise<boolean> {
  try {
    await listenAndClose(port);
    return true;
  } catch (error) {
    // Taken: the caller asks for another port. Anything else is a real failure.
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") return false;
    throw error;
  }
}

function listenAndClose(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const listener = createServer();
    listener.once("error", reject);
    listener.listen({ host: "127.0.0.1", port, exclusive: true }, () => {
      const address = listener.address();
      listener.close(() => resolve(typeof address === "object" && address ? address.port : port));
    });
  });
}

/**
 * Starts one more cluster node and joins it to the cluster as a master without slots. It is
 * recorded in `added` at once, so afterAll stops it even if joining fails.
 */
async function addMaster(): Promise<{ server: SpawnedRedis; connection: Redis }> {
  const node = await spawnRedisServer({
    port: await freeClusterPort(),
    // Without slots it stays a master, rather than turning into a replica of whoever took them.
    args: [
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      "nodes.conf",
      "--cluster-allow-replica-migration",
      "no",
    ],
  });
  const connection = new Redis(node.port, node.host);
  added = { server: node, connection };
  const [first] = server.nodes as [{ host: string; port: number }];
  await connection.cluster("MEET", first.host, first.port);
  const nodeCount = server.nodes.length + 1;
  await expect
    .poll(
      () =>
        Promise.all(
          [...direct, connection].map(async (each) =>
            isSettled(await each.cluster("INFO"), nodeCount),
          ),
        ),
      CLUSTER_WAIT,
    )
    .toEqual(Array.from({ length: nodeCount }, () => true));
  return added;
}

/** Every node known, and the state "ok", which a new master only reports after a short delay. */
function isSettled(info: string, nodeCount: number): boolean {
  const lines = info.split("\r\n");
  return lines.includes("cluster_state:ok") && lines.includes(`cluster_known_nodes:${nodeCount}`);
}

/** Moves an empty `slot` from `source` to `target`, as `redis-cli --cluster reshard` does. */
async function moveEmptySlot(slot: number, source: Redis, target: Redis): Promise<void> {
  expect(await source.cluster("COUNTKEYSINSLOT", slot)).toBe(0);
  const [sourceId, targetId] = await Promise.all([source.cluster("MYID"), target.cluster("MYID")]);
  await target.cluster("SETSLOT", slot, "IMPORTING", sourceId);
  await source.cluster("SETSLOT", slot, "MIGRATING", targetId);
  // The importing node first: it bumps its config epoch, so its claim wins the gossip.
  await target.cluster("SETSLOT", slot, "NODE", targetId);
  await source.cluster("SETSLOT", slot, "NODE", targetId);
  const everyNode = [...direct, ...(added ? [added.connection] : [])];
  await expect
    .poll(
      () =>
        Promise.all(everyNode.map(async (node) => ownerPort(await node.cluster("SLOTS"), slot))),
      CLUSTER_WAIT,
    )
    .toEqual(everyNode.map(() => target.options.port));
}

function ownerPort(
  ranges: [number, number, ...[string, number, ...unknown[]][]][],
  slot: number,
): number | undefined {
  return ranges.find(([start, end]) => start <= slot && slot <= end)?.[2]?.[1];
}

async function subscribers(node: Redis, channel: string): Promise<number> {
  const [, count] = await node.pubsub("NUMSUB", channel);
  return Number(count);
}

/**
 * Sends from `sender` to `listener` for `sessionId` until Redis counts a receiver, and waits for
 * the message: the listener's sharded channel for that session's slot is live where it is now.
 */
async function reaches(
  sender: RecordingMember,
  listener: RecordingMember,
  sessionId: string,
): Promise<void> {
  const message = { n: randomUUID() };
  await expect
    .poll(() => sender.member.send(listener.member.id, sessionId, message), CLUSTER_WAIT)
    .toBe(true);
  await expect.poll(() => listener.messages, CLUSTER_WAIT).toContainEqual({ sessionId, message });
}

it("subscribes to a master that joins after start-up, hears its expiries, moves relay channels with their slot, and lets it go when it leaves", async () => {
  const prefix = `topology-${randomUUID()}`;
  const layout = new KeyLayout(prefix, 16);
  const movedBucket = 0;
  const slot = await (direct[0] as Redis).cluster("KEYSLOT", layout.due(movedBucket));
  const sourcePort = ownerPort(await (direct[0] as Redis).cluster("SLOTS"), slot);
  const source = direct[server.nodes.findIndex(({ port }) => port === sourcePort)] as Redis;
  const client = new Cluster([...server.nodes], { redisOptions: { maxRetriesPerRequest: 1 } });
  const store = new RedisSessionStore({ client, prefix, logger: silentSendLog });
  // An hour's ttl, so that none of them expires while the test counts them; due soon after.
  const clock = new OffsetClock();
  const sessions = new SessionManager({
    store,
    enabled: false,
    ttl: 3_600_000,
    clock,
    logger: silentSendLog,
  });
  const handled: string[] = [];
  sessions.setExpirationHandler((id) => {
    handled.push(id);
  });
  // Relay members listen on a sharded channel per bucket, in the bucket's slot: the one moved
  // below moves their subscription with it.
  const sender = joinRecording(store);
  const listener = joinRecording(store);
  try {
    await Promise.all([store.ready(), sender.member.ready, listener.member.ready]);
    expect(await Promise.all(direct.map((node) => subscribers(node, EXPIRED_CHANNEL)))).toEqual(
      direct.map(() => 1),
    );

    const { connection: joined } = await addMaster();
    await moveEmptySlot(slot, source, joined);
    const ids: string[] = [];
    while (ids.length < 3) {
      const id = randomUUID();
      if (layout.bucketOf(id) === movedBucket) ids.push(id);
    }
    // The client learns of the new master from a MOVED reply, as an application's next request
    // to that slot would do.
    expect(await sessions.get(ids[0] as string)).toBeUndefined();
    await expect.poll(() => subscribers(joined, EXPIRED_CHANNEL), CLUSTER_WAIT).toBe(1);

    await reaches(sender, listener, ids[0] as string);

    for (const id of ids) await sessions.register(id);
    expect(await joined.cluster("COUNTKEYSINSLOT", slot)).toBe(ids.length + 1);
    await makeDueSoon(sessions, clock, ids);

    // No sweep runs: only an expired-key event from the new master can claim these.
    await expect.poll(() => [...handled].sort(), CLUSTER_WAIT).toEqual([...ids].sort());

    // Back to where it was: the new master holds no slot, and the store stops listening to it.
    await moveEmptySlot(slot, joined, source);
    expect(await sessions.get(ids[0] as string)).toBeUndefined();
    await expect.poll(() => subscribers(joined, EXPIRED_CHANNEL), CLUSTER_WAIT).toBe(0);
    await reaches(sender, listener, ids[0] as string);
    expect(await Promise.all(direct.map((node) => subscribers(node, EXPIRED_CHANNEL)))).toEqual(
      direct.map(() => 1),
    );
  } finally {
    await sessions.close();
    await store.close();
    await client.quit();
  }
  expect(handled).toHaveLength(3);
  await expect
    .poll(() => Promise.all(direct.map((node) => subscribers(node, EXPIRED_CHANNEL))), CLUSTER_WAIT)
    .toEqual(direct.map(() => 0));
});
