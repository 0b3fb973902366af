import { describeError, log, type SendLog } from "@mcp-sessions/session-core";
import type { Cluster, Redis } from "ioredis";
import { disconnect } from "./keyspace-events.js";
import { closedError } from "./redis-errors.js";
import { resubscribingDuplicate } from "./subscriber.js";

const LOGGER = "session-redis/relay";

export interface RelaySubscriberOptions {
  /** Duplicated for the subscriptions: a subscribed connection can do nothing else. */
  readonly client: Redis | Cluster;
  /** What CLIENT LIST shows for the connection. */
  readonly connectionName: string;
  readonly logger: SendLog;
  /**
   * A message arrived on `channel`. Returns false when nobody listens there any more, and the
   * channel is then unsubscribed.
   */
  onMessage(channel: string, payload: string): boolean;
}

/**
 * The one connection on which every relay member of a store listens, made on first use. It
 * subscribes again to all of its channels after a reconnect.
 */
export class RelaySubscriber {
  readonly #options: RelaySubscriberOptions;
  #connection: Redis | Cluster | undefined;
  /** What the connection is subscribed to, for subscribing again after a reconnect. */
  readonly #channels = { classic: new Set<string>(), sharded: new Set<string>() };
  #closed = false;

  constructor(options: RelaySubscriberOptions) {
    this.#options = options;
  }

  /** Subscribes to every channel; resolves once Redis confirmed them all. */
  async listen(classic: readonly string[], sharded: readonly string[]): Promise<void> {
    const connection = this.#connect();
    for (const channel of classic) this.#channels.classic.add(channel);
    for (const channel of sharded) this.#channels.sharded.add(channel);
    await Promise.all([
      classic.length > 0 ? connection.subscribe(...classic) : undefined,
      // A Cluster takes one slot per SSUBSCRIBE.
      ...sharded.map((channel) => connection.ssubscribe(channel)),
    ]);
  }

  /** Unsubscribes from every channel; resolves once Redis confirmed it. */
  async unlisten(classic: readonly string[], sharded: readonly string[]): Promise<void> {
    const connection = this.#connect();
    for (const channel of classic) this.#channels.classic.delete(channel);
    for (const channel of sharded) this.#channels.sharded.delete(channel);
    await Promise.all([
      classic.length > 0 ? connection.unsubscribe(...classic) : undefined,
      ...sharded.map((channel) => connection.sunsubscribe(channel)),
    ]);
  }

  /** Closes the connection, and with it every subscription. */
  async close(): Promise<void> {
    this.#closed = true;
    const connection = this.#connection;
    this.#connection = undefined;
    if (connection !== undefined) await disconnect(connection);
  }

  #connect(): Redis | Cluster {
    if (this.#connection !== undefined) return this.#connection;
    // Never a new connection after close(): nothing would close it.
    if (this.#closed) throw closedError();
    const { client, connectionName } = this.#options;
    const connection: Redis | Cluster = client.isCluster
      ? // Sharded subscribers connect to each slot's master, where SPUBLISH counts receivers.
        (client as Cluster).duplicate([], {
          shardedSubscribers: true,
          redisOptions: { connectionName },
        })
      : resubscribingDuplicate(
          client as Redis,
          () => this.#channels,
          { logger: this.#options.logger, loggerName: LOGGER },
          { connectionName },
        );
    connection.on("message", (channel: string, payload: string) => {
      if (!this.#options.onMessage(channel, payload)) this.#drop(connection.unsubscribe(channel));
    });
    connection.on("smessage", (channel: string, payload: string) => {
      if (!this.#options.onMessage(channel, payload)) this.#drop(connection.sunsubscribe(channel));
    });
    connection.on("error", (error: unknown) =>
      // ioredis reconnects by itself; this is the only notice that the subscriber is down.
      log(this.#options.logger, {
        level: "warning",
        logger: LOGGER,
        data: {
          message: "Relay subscriber connection error; reconnecting",
          error: describeError(error),
        },
      }),
    );
    this.#connection = connection;
    return connection;
  }

  /**
   * A channel nobody listens on: a member left while its UNSUBSCRIBE could not reach Redis. Until
   * it is gone, `send` to it would say true.
   */
  #drop(unsubscribed: Promise<unknown>): void {
    unsubscribed.catch((error: unknown) =>
      log(this.#options.logger, {
        level: "warning",
        logger: LOGGER,
        data: {
          message: "Could not unsubscribe a channel nobody listens on; retried on its next message",
          error: describeError(error),
        },
      }),
    );
  }
}
