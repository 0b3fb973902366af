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
  connection.on("ready", () => {
    if (connectedBefore) {
      const { classic, sharded } = subscriptions();
      const resubscribed = [
        classic.size > 0 ? connection.subscribe(...classic) : undefined,
        ...[...sharded].map((channel) => connection.ssubscribe(channel)),
      ];
      Promise.all(resubscribed).catch((error: unknown) =>
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
