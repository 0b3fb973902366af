import { type EndReason, isSessionError, type SendLog } from "@mcp-sessions/session-core";
import { describeError, log, unrefTimeout } from "@mcp-sessions/session-core/store";
import type { KeyLayout } from "./keys.js";
import { KeyspaceEvents } from "./keyspace-events.js";
import type { KeyspaceEventsMode } from "./options.js";
import type { RedisConnection } from "./redis-connection.js";
import { closedError, toStoreError } from "./redis-errors.js";
import { parseStoreMessage } from "./store-channel.js";

const LOGGER = "session-redis/store";
/** Wait before subscribing again after Redis was unreachable at start-up, in ms. */
const START_RETRY_MS = 1_000;

export interface StoreEventsOptions {
  readonly connection: RedisConnection;
  readonly keys: KeyLayout;
  readonly mode: KeyspaceEventsMode;
  /** Messages this instance published carry its id; it has delivered those itself. */
  readonly instanceId: string;
  readonly logger: SendLog;
  /** Redis expired one of this store's session keys. */
  onExpiredKey(id: string): void;
  /** Another instance removed or claimed a session. */
  onEnded(id: string, reason: EndReason): void;
}

/**
 * What the store hears from Redis: the ends other instances announce on the store's channel
 * and, unless sweep-only, the session keys Redis expired. It subscribes at once, and again every
 * `START_RETRY_MS` while Redis is unreachable, so the subscriptions come back with Redis. A
 * misconfigured server is not retried: that needs a person.
 */
export class StoreEvents {
  readonly #options: StoreEventsOptions;
  readonly #keyspaceEvents: KeyspaceEvents;
  /**
   * The latest attempt to subscribe, or the retry scheduled after an outage: so `ready()` in
   * between waits for the retry instead of repeating the last failure.
   */
  #ready: Promise<void>;
  #retryTimer: NodeJS.Timeout | undefined;
  /**
   * Rejects on close(): an attempt still in flight is given up then. Its subscriptions are
   * closing, and a CONFIG call sent just before Redis went away waits, in ioredis, for a
   * reconnect that a closed connection never makes.
   */
  readonly #closing: Promise<never>;
  #signalClosing: (error: Error) => void = () => {};
  #closed = false;

  constructor(options: StoreEventsOptions) {
    this.#options = options;
    this.#keyspaceEvents = new KeyspaceEvents(options);
    this.#closing = new Promise<never>((_, reject) => {
      this.#signalClosing = reject;
    });
    // Only ever raced against an attempt, which passes it on to whoever awaits ready().
    this.#closing.catch(() => {});
    this.#ready = this.#start();
  }

  /**
   * The latest attempt, or the next one while Redis is unreachable.
   * @throws StoreConfigurationError (`STORE_MISCONFIGURED`), StoreUnavailableError, or
   *   StoreClosedError (`STORE_CLOSED`) when closed first
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Gives up an attempt in flight or scheduled; the store closes the connections. */
  close(): void {
    this.#closed = true;
    this.#signalClosing(closedError());
    clearTimeout(this.#retryTimer);
  }

  #start(): Promise<void> {
    const started = Promise.race([
      Promise.all([this.#listenForEnds(), this.#keyspaceEvents.start()]),
      this.#closing,
    ]).then(
      () => {},
      (error: unknown) => {
        // Unreachable Redis at start-up is an outage like any other: STORE_UNAVAILABLE, not
        // ioredis's own untyped error.
        throw toStoreError("start-up", error);
      },
    );
    // Whoever awaits ready() gets the error; this keeps it from going unhandled otherwise.
    started.catch((error: unknown) => {
      // Closed while starting: nothing failed, and nothing is retried.
      if (isSessionError(error) && error.code === "STORE_CLOSED") return;
      const outage = isSessionError(error) && error.code === "STORE_UNAVAILABLE";
      log(this.#options.logger, {
        level: "error",
        logger: LOGGER,
        data: {
          message: outage
            ? `Subscriptions failed to start; retrying in ${START_RETRY_MS} ms`
            : "Subscriptions failed to start",
          error: describeError(error),
        },
      });
      if (outage && !this.#closed) this.#ready = this.#retry();
    });
    return started;
  }

  /** Starts again in `START_RETRY_MS`, unless close() comes first. */
  #retry(): Promise<void> {
    const retried = Promise.race([
      new Promise<void>((resolve, reject) => {
        this.#retryTimer = unrefTimeout(() => this.#start().then(resolve, reject), START_RETRY_MS);
      }),
      this.#closing,
    ]);
    // Whoever awaits ready() gets the outcome, which #start logs.
    retried.catch(() => {});
    return retried;
  }

  /** The store's channel: deletes and expiry claims announced by every other instance. */
  #listenForEnds(): Promise<void> {
    const { connection, keys, instanceId } = this.#options;
    return connection.subscriber.listen("classic", [keys.channel], (payload) => {
      const message = parseStoreMessage(payload);
      if (message !== undefined && message.instanceId !== instanceId) {
        this.#options.onEnded(message.id, message.reason);
      }
    });
  }
}
