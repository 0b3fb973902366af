/**
 * What every Redis group shares: a `redis-server` of its own (spawned on a free port of
 * 127.0.0.1, never a server that was already running), its clients, managers on
 * `RedisSessionStore`, and the metadata an MCP server keeps per session.
 */
import { randomUUID } from "node:crypto";
import {
  SessionManager,
  type SessionManagerOptions,
  type SessionMetadata,
} from "@mcp-sessions/session-core";
import { RedisSessionStore, type RedisSessionStoreOptions } from "@mcp-sessions/session-redis";
import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { Redis } from "ioredis";
import { progress } from "../harness.js";

/** The manager's default idle timeout (30 minutes), used by the baselines too. */
export const TTL_MS = 1_800_000;

/** The store's key prefix in every group. Its keys are `{bench:<bucket>}:…` (session-redis README). */
export const STORE_PREFIX = "bench";

/** Where baselines put their plain string keys; a name of the same length as a session key's. */
export const RAW_KEY_PREFIX = "bench-raw:s:";

/**
 * Initialize params as an MCP server keeps them: protocol version, client info and client
 * capabilities. About 170 bytes of JSON.
 */
export const INITIALIZE_PARAMS_JSON = JSON.stringify({
  protocolVersion: "2025-06-18",
  clientInfo: { name: "bench-client", version: "1.0.0" },
  capabilities: {
    roots: { listChanged: true },
    sampling: {},
    elicitation: {},
    experimental: {},
  },
});

export const INITIALIZE_PARAMS: SessionMetadata = Object.freeze(
  JSON.parse(INITIALIZE_PARAMS_JSON) as SessionMetadata,
);

/**
 * What a store without our design would keep per session: the whole record as one JSON
 * string, for `SET key <json> PX ttl`.
 */
export function rawSessionJson(id: string, now: number): string {
  return JSON.stringify({
    id,
    createdAt: now,
    lastAccessedAt: now,
    expiresAt: now + TTL_MS,
    metadata: INITIALIZE_PARAMS,
  });
}

/** A fresh key for the plain-string baselines. */
export function rawKey(): string {
  return `${RAW_KEY_PREFIX}${randomUUID()}`;
}

/** A manager and the store it owns. */
export interface RedisManager {
  readonly manager: SessionManager;
  readonly store: RedisSessionStore;
  /** Closes the manager, then its store (which unsubscribes); the client stays open. */
  close(): Promise<void>;
}

/** A spawned server, and what a group opened on it; everything is closed by {@link withRedis}. */
export interface BenchRedis {
  readonly server: SpawnedRedis;
  /** A new client of its own; `withRedis` quits it after the group's managers and stores are closed. */
  connect(): Redis;
  /**
   * A manager (sweep timer off unless asked) on a `RedisSessionStore` over `client`, with
   * subscriptions live. Both are closed by `withRedis` if the group has not closed them itself.
   */
  manager(
    client: Redis,
    options?: Omit<SessionManagerOptions, "store">,
    storeOptions?: Omit<RedisSessionStoreOptions, "client" | "url">,
  ): Promise<RedisManager>;
}

/**
 * Spawns a `redis-server` for one group, runs `use`, then closes every manager, store and client
 * the group made and stops the server, whether `use` resolved or threw.
 */
export async function withRedis<T>(use: (redis: BenchRedis) => Promise<T>): Promise<T> {
  const server = await spawnRedisServer();
  progress(`  redis-server spawned on ${server.host}:${server.port}`);
  const clients: Redis[] = [];
  const opened: RedisManager[] = [];
  const redis: BenchRedis = {
    server,
    connect() {
      const client = new Redis({ host: server.host, port: server.port });
      // Without a listener ioredis prints "Unhandled error event"; say which bench it was.
      client.on("error", (error: unknown) =>
        progress(`  redis client error: ${error instanceof Error ? error.message : String(error)}`),
      );
      clients.push(client);
      return client;
    },
    async manager(client, options = {}, storeOptions = {}) {
      const store = new RedisSessionStore({ prefix: STORE_PREFIX, ...storeOptions, client });
      const manager = new SessionManager({ enabled: false, ...options, store });
      const managed: RedisManager = {
        manager,
        store,
        async close() {
          await manager.close();
          await store.close();
        },
      };
      opened.push(managed);
      await store.ready();
      return managed;
    },
  };
  try {
    return await use(redis);
  } finally {
    await Promise.allSettled(opened.map((managed) => managed.close()));
    await Promise.allSettled(clients.map((client) => client.quit()));
    await server.stop();
  }
}
