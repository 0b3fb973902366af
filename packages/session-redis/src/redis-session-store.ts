import { randomUUID } from "node:crypto";
import {
  type CreateOptions,
  type CreateOutcome,
  type DeleteOptions,
  type EndReason,
  InvalidMetadataError,
  type LookupOptions,
  type SessionLookup,
  type SessionRecord,
  type SessionRelay,
  type SessionStore,
  type SessionStoreListener,
  type SweepResult,
  type TouchOptions,
} from "@mcp-sessions/session-core";
import { describeError, log, unrefTimeout } from "@mcp-sessions/session-core/store";
import { KeyLayout } from "./keys.js";
import {
  type RedisSessionStoreOptions,
  type ResolvedRedisSessionStoreOptions,
  resolveOptions,
} from "./options.js";
import { RedisConnection } from "./redis-connection.js";
import { closedError, withDeadline } from "./redis-errors.js";
import { RedisRelay } from "./redis-relay.js";
import { SessionScripts } from "./scripts.js";
import { StoreEvents } from "./store-events.js";
import { sweepBuckets } from "./sweeper.js";

const LOGGER = "session-redis/store";
/** Sessions removed per script call by `clear`. */
const CLEAR_BATCH = 500;

/**
 * Keeps sessions in Redis (standalone or Cluster) so a fleet of instances shares them.
 *
 * Each session is a hash with `PEXPIREAT` at its deadline, indexed by deadline in one of
 * `buckets` sorted sets that share its hash tag. Create, touch and delete are one Lua script
 * each, one round trip. Expiry is claimed with ZREM, which answers 1 to exactly one instance:
 * that one delivers `expired`. Every instance hears `ended` through the store's channel.
 * `relay` carries messages between the instances over pub/sub, with each session's event log
 * as a stream under the session's hash tag that ends with the session. Standalone, a store and
 * its relay use two connections: one for commands and one for every subscription.
 *
 * @example
 * const store = new RedisSessionStore({ url: process.env.REDIS_URL, prefix: "my-app" });
 * await store.ready(); // keyspace events checked, subscriptions live
 * const sessions = new SessionManager({ store });
 */
export class RedisSessionStore implements SessionStore {
  readonly #options: ResolvedRedisSessionStoreOptions;
  readonly #connection: RedisConnection;
  readonly #keys: KeyLayout;
  readonly #scripts: SessionScripts;
  readonly #events: StoreEvents;
  readonly #relay: RedisRelay;
  readonly #listeners = new Set<SessionStoreListener>();
  readonly #inFlight = new Set<Promise<unknown>>();
  /** Cluster creates under `maxSessions` count then insert; one at a time per instance. */
  #limitedCreates: Promise<unknown> = Promise.resolve();
  #closed: Promise<void> | undefined;

  /** @throws TypeError naming the first invalid option */
  constructor(options: RedisSessionStoreOptions) {
    this.#options = resolveOptions(options);
    const { connection, prefix, buckets, logger } = this.#options;
    this.#connection = new RedisConnection({ source: connection, prefix, logger });
    const { client, subscriber } = this.#connection;
    const instanceId = randomUUID();
    this.#keys = new KeyLayout(prefix, buckets);
    this.#scripts = new SessionScripts(client, this.#keys, instanceId);
    this.#relay = new RedisRelay({
      client,
      subscriber,
      keys: this.#keys,
      maxEventsPerSession: this.#options.maxEventsPerSession,
      commandTimeoutMs: this.#options.commandTimeoutMs,
      logger,
      run: (what, call) => this.#run(what, call),
    });
    this.#events = new StoreEvents({
      connection: this.#connection,
      keys: this.#keys,
      mode: this.#options.keyspaceEvents,
      instanceId,
      logger,
      onExpiredKey: (id) => this.#claimNow(id),
      onEnded: (id, reason) => this.#signalEnded(id, reason),
    });
  }

  /** Every instance on this Redis and prefix sees the same sessions. */
  readonly shared = true;

  /**
   * Carries messages between the instances sharing this Redis and prefix, and keeps each
   * session's event log, which ends with the session inside the store's own scripts: pass it
   * next to the store (session-mcp's `relay` option). Members of one store share one subscriber
   * connection. Every member operation is one round trip; an outage rejects with
   * `StoreUnavailableError`.
   */
  get relay(): SessionRelay {
    return this.#relay;
  }

  /**
   * Resolves once `notify-keyspace-events` is checked and the subscriptions are live. Data
   * methods do not wait for it; await it at start-up to fail fast on a misconfigured server.
   * While Redis is unreachable the store tries again every second; a call in between waits for
   * the next try.
   * @throws StoreConfigurationError (`STORE_MISCONFIGURED`) when keyspace events are off and
   *   CONFIG is refused; StoreUnavailableError when Redis cannot be reached; StoreClosedError
   *   (`STORE_CLOSED`) when the store closed first
   */
  ready(): Promise<void> {
    return this.#events.ready();
  }

  create(record: SessionRecord, options: CreateOptions = {}): Promise<CreateOutcome> {
    return this.#run("create", async () => {
      const metadataJson = serialize(record);
      const { maxSessions } = options;
      if (maxSessions === undefined) {
        return this.#scripts.create(record, metadataJson, undefined, []);
      }
      if (!this.#connection.isCluster) {
        // Standalone: every bucket is reachable from one script, so the limit is exact.
        const all = Array.from({ length: this.#keys.buckets }, (_, bucket) => bucket);
        return this.#scripts.create(record, metadataJson, maxSessions, all);
      }
      // A Cluster script reaches one slot only: count first, then insert, one create at a time.
      const create = this.#limitedCreates.then(async () => {
        if ((await this.#countLive(record.createdAt)) >= maxSessions) return "full" as const;
        return this.#scripts.create(record, metadataJson, undefined, []);
      });
      this.#limitedCreates = create.catch(() => {});
      return create;
    });
  }

  get(id: string, options: LookupOptions): Promise<SessionLookup> {
    return this.#run("get", () => this.#scripts.get(id, options.now, options.owner));
  }

  touch(id: string, options: TouchOptions): Promise<SessionLookup> {
    return this.#run("touch", () =>
      this.#scripts.touch(id, options.now, options.ttl, options.maxLifetime, options.owner),
    );
  }

  delete(id: string, options: DeleteOptions): Promise<boolean> {
    return this.#run("delete", async () => {
      const removed = await this.#scripts.delete(id, options.now);
      if (removed) this.#signalEnded(id, "destroyed");
      return removed;
    });
  }

  count(now: number): Promise<number> {
    return this.#run("count", () => this.#countLive(now));
  }

  async *list(now: number): AsyncIterable<SessionRecord> {
    for (let bucket = 0; bucket < this.#keys.buckets; bucket++) {
      let cursor = "0";
      do {
        const page = await this.#run("list", () => this.#scripts.scan(bucket, cursor));
        cursor = page.cursor;
        const ids = page.entries.filter(([, deadline]) => deadline > now).map(([id]) => id);
        const sessions = await this.#run("list", () => this.#scripts.read(ids));
        for (const session of sessions) if (session.expiresAt > now) yield session;
      } while (cursor !== "0");
    }
  }

  clear(): Promise<number> {
    return this.#run("clear", async () => {
      const perBucket = await Promise.all(
        Array.from({ length: this.#keys.buckets }, async (_, bucket) => {
          let removed = 0;
          for (;;) {
            const batch = await this.#scripts.clear(bucket, CLEAR_BATCH);
            for (const id of batch.removed) this.#signalEnded(id, "destroyed");
            removed += batch.removed.length;
            if (batch.done) return removed;
          }
        }),
      );
      return perBucket.reduce((sum, removed) => sum + removed, 0);
    });
  }

  sweep(now: number): Promise<SweepResult> {
    return this.#run("sweep", async () => {
      // After a reconnect, subscriptions come first: a key that expires between this sweep and
      // the subscriber's return would otherwise wait a whole interval for the next sweep. A
      // subscriber that stays down must not stop expiry, so the wait is bounded.
      await settledWithin(
        this.#connection.subscriber.subscribed(),
        this.#options.commandTimeoutMs / 2,
      );
      const { claimed, saturated, nextDeadline } = await sweepBuckets(
        this.#scripts,
        this.#keys.buckets,
        now,
        this.#options.sweepBatchSize,
      );
      for (const id of claimed) this.#signalExpired(id);
      // More was due than one batch holds: ask to be called again at once.
      if (saturated) return { claimed: claimed.length, nextDueAt: now };
      if (nextDeadline === undefined) return { claimed: claimed.length };
      return { claimed: claimed.length, nextDueAt: nextDeadline };
    });
  }

  subscribe(listener: SessionStoreListener): () => void {
    if (this.#closed) throw closedError();
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /**
   * Leaves every relay member, closes the subscriptions, waits for calls in flight, and closes
   * the connections the store made. A client you passed in stays open. Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      // A start-up in flight or scheduled gives up now.
      this.#events.close();
      // Members stop hearing messages now, not after the calls in flight, and so does the store.
      this.#relay.close();
      const subscriptionsClosed = this.#connection.subscriber.close();
      await this.#events.ready().catch(() => {});
      while (this.#inFlight.size > 0) await Promise.allSettled(this.#inFlight);
      this.#listeners.clear();
      await Promise.all([subscriptionsClosed, this.#connection.close()]);
    })();
    return this.#closed;
  }

  async #countLive(now: number): Promise<number> {
    const counts = await Promise.all(
      Array.from({ length: this.#keys.buckets }, (_, bucket) => this.#scripts.count(bucket, now)),
    );
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /** A keyspace event said a key expired: try to claim it now instead of at the next sweep. */
  #claimNow(id: string): void {
    if (this.#closed) return;
    const claim = withDeadline("claim", this.#options.commandTimeoutMs, () =>
      this.#scripts.claim(this.#keys.bucketOf(id), [id], Date.now()),
    ).then(
      (claimed) => {
        for (const won of claimed) this.#signalExpired(won);
      },
      (error: unknown) =>
        // The sweep claims it later; nothing is lost.
        log(this.#options.logger, {
          level: "warning",
          logger: LOGGER,
          data: {
            message: "Claim on expired-key event failed; the sweep retries",
            error: describeError(error),
          },
        }),
    );
    this.#track(claim);
  }

  #run<T>(what: string, call: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(closedError());
    const work = withDeadline(what, this.#options.commandTimeoutMs, call);
    this.#track(work);
    return work;
  }

  #track(work: Promise<unknown>): void {
    this.#inFlight.add(work);
    const untrack = () => this.#inFlight.delete(work);
    work.then(untrack, untrack);
  }

  #signalExpired(id: string): void {
    this.#deliver("expired", (listener) => listener.expired(id));
    this.#signalEnded(id, "expired");
  }

  #signalEnded(id: string, reason: EndReason): void {
    this.#deliver("ended", (listener) => listener.ended(id, reason));
  }

  #deliver(kind: string, call: (listener: SessionStoreListener) => void): void {
    for (const listener of this.#listeners) {
      try {
        call(listener);
      } catch (error) {
        log(this.#options.logger, {
          level: "error",
          logger: LOGGER,
          data: { message: `Subscriber threw on "${kind}"`, error: describeError(error) },
        });
      }
    }
  }
}

function serialize(record: SessionRecord): string | undefined {
  if (record.metadata === undefined) return undefined;
  try {
    return JSON.stringify(record.metadata);
  } catch (error) {
    throw new InvalidMetadataError("Metadata cannot be serialised as JSON", { cause: error });
  }
}

/** Waits for `work`, but no longer than `ms`; it never rejects. */
async function settledWithin(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work,
    new Promise<void>((resolve) => {
      timer = unrefTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}
