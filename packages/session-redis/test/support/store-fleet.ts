import { randomUUID } from "node:crypto";
import {
  type EndReason,
  isSessionError,
  type LogEntry,
  SessionManager,
  type SessionManagerOptions,
} from "@mcp-sessions/session-core";
import { pollUntil } from "@mcp-sessions/session-testing/wait";
import { Redis } from "ioredis";
import { RedisSessionStore, type RedisSessionStoreOptions } from "../../src/index.js";

/**
 * One member of a fleet, as a separate process would have it: its own ioredis client, its own
 * `RedisSessionStore` and its own `SessionManager`, sharing only the server and the prefix.
 */
export interface StoreFleetInstance {
  readonly name: string;
  /** The client the test made for this instance; absent when the store owns its connection. */
  readonly client: Redis | undefined;
  readonly store: RedisSessionStore;
  readonly sessions: SessionManager;
  /** Ids whose expiration handler ran on this instance, one entry per run. */
  readonly handled: string[];
  /** Every `ended` event this instance emitted, in arrival order. */
  readonly ended: { readonly id: string; readonly reason: EndReason }[];
  /** Ids of this instance's `destroyed` events. */
  readonly destroyed: string[];
  /** Everything the manager and the store logged. */
  readonly logs: LogEntry[];
  /** How many `ended` events this instance emitted for `id` with `reason`. */
  endedCount(id: string, reason: EndReason): number;
}

export interface StoreFleetInstanceOptions {
  /**
   * `"own"` (default): the test makes an ioredis client and passes it as `client`.
   * `"store"`: the store gets `url` and makes, and closes, its own connections.
   */
  readonly connection?: "own" | "store";
  /** The server this instance reaches, when not the fleet's: a fault test's line past its proxy. */
  readonly url?: string;
  readonly store?: Omit<RedisSessionStoreOptions, "client" | "url" | "prefix" | "logger">;
  readonly manager?: Omit<SessionManagerOptions, "store" | "logger">;
}

/**
 * Store instances in this process on one Redis under one random prefix, each with its own
 * manager, as a fleet of processes would have them; `close()` closes them all.
 */
export class StoreFleet {
  readonly url: string;
  readonly prefix = `fleet-${randomUUID()}`;
  readonly instances: StoreFleetInstance[] = [];

  constructor(url: string) {
    this.url = url;
  }

  /** Starts an instance and waits until its subscriptions are live. */
  async add(options: StoreFleetInstanceOptions = {}): Promise<StoreFleetInstance> {
    const instance = this.#open(options);
    await instance.store.ready();
    return instance;
  }

  #open(options: StoreFleetInstanceOptions): StoreFleetInstance {
    const url = options.url ?? this.url;
    const logs: LogEntry[] = [];
    const logger = (entry: LogEntry): void => {
      logs.push(entry);
    };
    let client: Redis | undefined;
    if (options.connection !== "store") {
      client = new Redis(url, { maxRetriesPerRequest: 1 });
      client.on("error", (error: unknown) => {
        logs.push({ level: "warning", logger: "test/client", data: { error: String(error) } });
      });
    }
    const store = new RedisSessionStore({
      ...(client === undefined ? { url } : { client }),
      prefix: this.prefix,
      logger,
      ...options.store,
    });
    const sessions = new SessionManager({ store, logger, ...options.manager });
    const handled: string[] = [];
    const ended: { id: string; reason: EndReason }[] = [];
    const destroyed: string[] = [];
    sessions.setExpirationHandler((id) => {
      handled.push(id);
    });
    sessions.on("ended", ({ id, reason }) => {
      ended.push({ id, reason });
    });
    sessions.on("destroyed", ({ id }) => {
      destroyed.push(id);
    });
    const instance: StoreFleetInstance = {
      name: `instance-${this.instances.length}`,
      client,
      store,
      sessions,
      handled,
      ended,
      destroyed,
      logs,
      endedCount: (id, reason) =>
        ended.filter((event) => event.id === id && event.reason === reason).length,
    };
    this.instances.push(instance);
    return instance;
  }

  /** How often each id's expiration handler ran, summed over every instance. */
  handlerRuns(): Map<string, number> {
    const runs = new Map<string, number>();
    for (const instance of this.instances) {
      for (const id of instance.handled) runs.set(id, (runs.get(id) ?? 0) + 1);
    }
    return runs;
  }

  /** Total expiration handler runs over every instance. */
  handlerRunCount(): number {
    return this.instances.reduce((sum, instance) => sum + instance.handled.length, 0);
  }

  /** Closes every manager, then its store, then the clients the fleet made. */
  async close(): Promise<void> {
    const instances = this.instances.splice(0);
    await Promise.all(instances.map((instance) => instance.sessions.close()));
    await Promise.all(instances.map((instance) => instance.store.close()));
    for (const { client } of instances) {
      if (client !== undefined) client.disconnect();
    }
  }
}

/** Every key under `prefix`, read with SCAN on the test's own connection (the store never scans). */
export async function keysUnder(admin: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await admin.scan(cursor, "MATCH", `{${prefix}:*`, "COUNT", 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys.sort();
}

/** How many ids wait in the due indexes under `prefix`, claimed by nobody yet. */
export async function unclaimedCount(admin: Redis, prefix: string): Promise<number> {
  const dueKeys = (await keysUnder(admin, prefix)).filter((key) => key.endsWith("}:due"));
  const sizes = await Promise.all(dueKeys.map((key) => admin.zcard(key)));
  return sizes.reduce((sum, size) => sum + size, 0);
}

/** Session hashes still present under `prefix`. */
export async function sessionKeysUnder(admin: Redis, prefix: string): Promise<string[]> {
  return (await keysUnder(admin, prefix)).filter((key) => key.includes("}:s:"));
}

/** What one call came to: its value, or the `code` of its error (the error itself if untyped). */
export type Outcome<T> =
  | { readonly status: "resolved"; readonly value: T }
  | { readonly status: "rejected"; readonly code: string | undefined; readonly error: unknown };

export async function outcomeOf<T>(call: Promise<T>): Promise<Outcome<T>> {
  try {
    return { status: "resolved", value: await call };
  } catch (error) {
    return { status: "rejected", code: isSessionError(error) ? error.code : undefined, error };
  }
}

/**
 * Calls `call` until it resolves, polling, and returns its value: after an outage each client
 * reconnects on its own schedule (ioredis backs off between attempts).
 */
export async function eventually<T>(call: () => Promise<T>): Promise<T> {
  let resolved: { value: T } | undefined;
  // A rejection counts as "not yet"; the last one is the timeout error's cause.
  await pollUntil(
    async () => {
      resolved = { value: await call() };
      return true;
    },
    { waitingFor: "the call to resolve after the outage", timeoutMs: 30_000 },
  );
  if (resolved === undefined) throw new Error("unreachable: the poll saw it resolve");
  return resolved.value;
}

/** Ids whose value in `counts` is not exactly one, with their counts; `[]` when all are. */
export function notExactlyOnce(
  ids: Iterable<string>,
  counts: ReadonlyMap<string, number>,
): [string, number][] {
  const wrong: [string, number][] = [];
  const expected = new Set(ids);
  for (const id of expected) {
    const count = counts.get(id) ?? 0;
    if (count !== 1) wrong.push([id, count]);
  }
  for (const [id, count] of counts) if (!expected.has(id)) wrong.push([id, count]);
  return wrong;
}

/**
 * Records every unhandled rejection in this worker until the returned `stop` is called. vitest
 * reports them too, but only at the end of the run; this lets a test assert on them itself.
 */
export function recordUnhandledRejections(): { readonly reasons: unknown[]; stop(): void } {
  const reasons: unknown[] = [];
  const listener = (reason: unknown): void => {
    reasons.push(reason);
  };
  process.on("unhandledRejection", listener);
  return { reasons, stop: () => process.off("unhandledRejection", listener) };
}
