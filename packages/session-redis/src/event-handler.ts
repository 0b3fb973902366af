import { once } from "node:events";
import type { SendLog } from "@mcp-sessions/session-core";
import { describeError, log } from "@mcp-sessions/session-core/store";
import type { Cluster, Redis } from "ioredis";

/**
 * Lifecycle handlers of the connections the store makes, apart from the classes that wire them,
 * as ioredis keeps lib/redis/event_handler.ts apart from Redis.ts.
 */

export interface LogContext {
  readonly logger: SendLog;
  /** The module that logs, as `sendLog`'s `logger`. */
  readonly loggerName: string;
}

/** Logs each error of a connection, which ioredis then reconnects by itself. */
export function errorHandler(context: LogContext, label: string): (error: unknown) => void {
  // ioredis reconnects by itself; this is the only notice that the connection is down.
  return (error) =>
    log(context.logger, {
      level: "warning",
      logger: context.loggerName,
      data: { message: `${label} connection error; reconnecting`, error: describeError(error) },
    });
}

/** What a subscription connection's handlers act on. */
export interface Resubscribing {
  readonly state: SubscribedState;
  /** Subscribes to every channel the connection should hold; resolves once Redis confirmed. */
  resubscribe(): Promise<void>;
}

/**
 * On every "ready", the connection subscribes to all it should hold. ioredis's own
 * `autoResubscribe` sends those commands with no rejection handler: a connection that drops, or
 * is closed, before Redis answers them rejects them unhandled, which crashes a process run with
 * Node's defaults. Here a failed re-subscription is logged, and the next reconnect tries again.
 * The first "ready" subscribes too, so channels whose SUBSCRIBE failed before the connection
 * ever came up are not left out.
 */
export function readyHandler(
  target: Resubscribing,
  context: LogContext,
  reconnected: () => void,
): () => void {
  return () => {
    if (target.state.ready()) reconnected();
    target.resubscribe().then(
      () => target.state.regained(),
      (error: unknown) =>
        log(context.logger, {
          level: "warning",
          logger: context.loggerName,
          data: {
            message: "Subscribing again after a reconnect failed; the next reconnect retries",
            error: describeError(error),
          },
        }),
    );
  };
}

/** A connection that was ready and closed has lost its subscriptions until it subscribes again. */
export function closeHandler(target: Resubscribing): () => void {
  return () => target.state.lost();
}

/** Whether a subscription connection's subscriptions are live, as a promise to wait on. */
export class SubscribedState {
  /** Resolves once the subscriptions are live again; resolved while they are. */
  current: Promise<void> = Promise.resolve();
  #resolve: (() => void) | undefined;
  #readyBefore = false;
  #ended = false;

  /** The connection is ready; true when it had been ready before, so this is a reconnect. */
  ready(): boolean {
    const before = this.#readyBefore;
    this.#readyBefore = true;
    return before;
  }

  lost(): void {
    // Before its first "ready" a connection never held anything; once closed, nobody waits.
    if (!this.#readyBefore || this.#ended) return;
    this.#resolve ??= (() => {
      let resolve: () => void = () => {};
      this.current = new Promise<void>((done) => {
        resolve = done;
      });
      return resolve;
    })();
  }

  regained(): void {
    this.#resolve?.();
    this.#resolve = undefined;
  }

  /** The connection is closed for good: whoever waits stops waiting. */
  end(): void {
    this.#ended = true;
    this.regained();
  }
}

/**
 * Disconnects and waits for the socket to close. Only a live socket emits "end": one waiting to
 * reconnect has none, so waiting there would hang.
 */
export async function disconnect(connection: Redis | Cluster): Promise<void> {
  const live = LIVE_STATUSES.has(connection.status);
  const ended = live ? once(connection, "end") : undefined;
  connection.disconnect();
  await ended;
}

const LIVE_STATUSES: ReadonlySet<string> = new Set(["connecting", "connect", "ready"]);
