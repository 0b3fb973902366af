import { describeError, log, type SendLog } from "@mcp-sessions/session-core";
import type { Redis, RedisOptions } from "ioredis";

/** The channels a subscriber is on now, by kind. */
export interface Subscriptions {
  readonly classic: ReadonlySet<string>;
  readonly sharded: ReadonlySet<string>;
}

/**
 * A duplicate of `source` for subscribing, which subscribes again by itself after every
 * reconnect to what `subscriptions()` returns. ioredis's own `autoResubscribe` sends those
 * commands with no rejection handler: a connection that drops, or is closed, before Redis answers
 * them rejects them unhandled, which crashes a process run with Node's defaults. Here a failed
 * re-subscription is logged, and the next reconnect tries again.
 */
export function resubscribingDuplicate(
  source: Redis,
  subscriptions: () => Subscriptions,
  context: { readonly logger: SendLog; readonly loggerName: string },
  overrides: Partial<RedisOptions> = {},
): Redis {
  const connection = source.duplicate({ ...overrides, autoResubscribe: false });
  let connectedBefore = false;
  const state = new SubscribedState();
  SUBSCRIBED.set(connection, state);
  connection.on("close", () => {
    if (connectedBefore) state.lost();
  });
  connection.on("ready", () => {
    if (connectedBefore) {
      const { classic, sharded } = subscriptions();
      const resubscribed = [
        classic.size > 0 ? connection.subscribe(...classic) : undefined,
        ...[...sharded].map((channel) => connection.ssubscribe(channel)),
      ];
      Promise.all(resubscribed).then(
        () => state.regained(),
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
    }
    connectedBefore = true;
  });
  return connection;
}

/**
 * Resolves once `connection`, made by `resubscribingDuplicate`, is subscribed again after its
 * latest reconnect; at once while it is subscribed, or for any other connection.
 */
export function whenSubscribed(connection: Redis): Promise<void> {
  return SUBSCRIBED.get(connection)?.current ?? Promise.resolve();
}

const SUBSCRIBED = new WeakMap<Redis, SubscribedState>();

/** Whether a subscriber's subscriptions are live, as a promise to wait on. */
class SubscribedState {
  current: Promise<void> = Promise.resolve();
  #resolve: (() => void) | undefined;

  lost(): void {
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
}
