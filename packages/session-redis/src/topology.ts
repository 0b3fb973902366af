import type { Cluster, Redis, RedisOptions } from "ioredis";
import { keySlot } from "./key-slot.js";

/**
 * The servers a store subscribes on, and which of them serves a sharded channel: one server
 * standalone, the masters of a Cluster, followed as they change.
 */
export interface Topology {
  /**
   * Command connections to the servers, by "host:port"; empty while a Cluster client is not
   * ready, when its view of the masters may be partial.
   */
  servers(): ReadonlyMap<string, Redis>;
  /** The address of the server of `channel`'s slot, if one is known. */
  ownerOf(channel: string): string | undefined;
  /** Calls `changed` on every change of the servers or slots; returns what stops it. */
  watch(changed: () => void): () => void;
  /** Asks the client to read the topology again: a sharded subscription was told it moved. */
  refresh(): void;
  /** What each subscription connection needs beyond its server's own options. */
  readonly connectionOptions: Partial<RedisOptions>;
}

/** One server, which serves every channel and never changes. */
export function standaloneTopology(client: Redis): Topology {
  const address = addressOf(client);
  const servers: ReadonlyMap<string, Redis> = new Map([[address, client]]);
  return {
    servers: () => servers,
    ownerOf: () => address,
    watch: () => () => {},
    refresh: () => {},
    connectionOptions: {},
  };
}

/** A failover or resharding changes the masters; these events tell of it. */
const TOPOLOGY_EVENTS = ["ready", "refresh", "+node", "-node"] as const;

/** The masters of `cluster`, and its slot table, as the client knows them. */
export function clusterTopology(cluster: Cluster): Topology {
  return {
    // Until "ready" the client may know its startup nodes only, not every master.
    servers: () =>
      cluster.status === "ready"
        ? new Map(cluster.nodes("master").map((node) => [addressOf(node), node]))
        : new Map(),
    ownerOf: (channel) => cluster.slots[keySlot(channel)]?.[0],
    watch: (changed) => {
      for (const event of TOPOLOGY_EVENTS) cluster.on(event, changed);
      return () => {
        for (const event of TOPOLOGY_EVENTS) cluster.off(event, changed);
      };
    },
    // The refresh ends in a "refresh" event, or in a "node error" the client reports itself.
    refresh: () => cluster.refreshSlotsCache(),
    connectionOptions: CLUSTER_SUBSCRIBER_OPTIONS,
  };
}

/**
 * A Cluster's node connections never reconnect: ioredis drops one that fails and waits for a
 * MOVED or a slot refresh instead. A subscriber gets neither, so it reconnects by itself, with
 * ioredis's default backoff, until its master leaves the topology and is let go.
 */
const CLUSTER_SUBSCRIBER_OPTIONS: Partial<RedisOptions> = {
  retryStrategy: (times) => Math.min(times * 50, 2_000),
};

/** "host:port", as a Cluster's slot table names a node. */
function addressOf(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
}
