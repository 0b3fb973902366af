import type { SendLog } from "@mcp-sessions/session-core";
import { MemorySessionStore } from "@mcp-sessions/session-memory";
import { RedisSessionStore } from "@mcp-sessions/session-redis";

/** Which session store backs the server, as `/healthz` and the "listening" line report it. */
export type StoreKind = "memory" | "redis";

/** Where {@link openSessionStore} keeps sessions. */
export interface SessionStoreConfig {
  /** A `redis://` or `rediss://` URL, or `undefined` for the in-memory store. */
  readonly redisUrl: string | undefined;
  /** Start of every Redis key; instances with the same URL and prefix form one fleet. */
  readonly redisPrefix: string;
}

/**
 * The in-memory store, or the Redis store when `redisUrl` is set, ready to use: a Redis that is
 * unreachable or misconfigured fails here, at start-up, not on the first request. Each comes with
 * the relay for its sessions, `store.relay`, to pass next to the manager.
 * @throws StoreUnavailableError or StoreConfigurationError when Redis cannot be used
 */
export async function openSessionStore(
  config: SessionStoreConfig,
  logger: SendLog,
): Promise<{ store: MemorySessionStore | RedisSessionStore; kind: StoreKind }> {
  if (config.redisUrl === undefined) {
    return { store: new MemorySessionStore({ logger }), kind: "memory" };
  }
  const store = new RedisSessionStore({ url: config.redisUrl, prefix: config.redisPrefix, logger });
  try {
    await store.ready();
  } catch (error) {
    await store.close();
    throw error;
  }
  return { store, kind: "redis" };
}
