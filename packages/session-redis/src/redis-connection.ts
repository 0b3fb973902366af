import type { SendLog } from "@mcp-sessions/session-core";
import { type Cluster, Redis } from "ioredis";
import { disconnect, errorHandler, type LogContext } from "./event-handler.js";
import type { ClientSource } from "./options.js";
import { Subscriber } from "./subscriber.js";
import { clusterTopology, standaloneTopology } from "./topology.js";

const LOGGER = "session-redis/connection";

export interface RedisConnectionOptions {
  readonly source: ClientSource;
  /** Names the connections the store makes, in CLIENT LIST. */
  readonly prefix: string;
  readonly logger: SendLog;
}

/**
 * The store's connections to Redis: the one it sends commands on (the client you gave, or one it
 * made from `url`), and its subscription connections, duplicated from it. As BullMQ's
 * RedisConnection does, it knows whether it made the client, and `close()` closes only what it
 * made. Standalone, that is two connections at most: commands and subscriptions.
 */
export class RedisConnection {
  /** Where commands go; never in subscriber mode. */
  readonly client: Redis | Cluster;
  readonly subscriber: Subscriber;
  readonly #ownsClient: boolean;
  #closed: Promise<void> | undefined;

  constructor(options: RedisConnectionOptions) {
    const log: LogContext = { logger: options.logger, loggerName: LOGGER };
    if ("client" in options.source) {
      this.client = options.source.client;
      this.#ownsClient = false;
    } else {
      this.client = new Redis(options.source.url, {
        // Fail fast while Redis is down instead of queueing for ioredis's default 20 retries.
        maxRetriesPerRequest: 1,
        connectionName: `${options.prefix}:commands`,
      });
      this.#ownsClient = true;
      this.client.on("error", errorHandler(log, "Redis"));
    }
    this.subscriber = new Subscriber({
      topology: this.client.isCluster
        ? clusterTopology(this.client as Cluster)
        : standaloneTopology(this.client as Redis),
      connectionNames: {
        classic: `${options.prefix}:subscriber`,
        sharded: `${options.prefix}:ssubscriber`,
      },
      log,
    });
  }

  get isCluster(): boolean {
    return this.client.isCluster;
  }

  /** The database keyspace events come from: the client's, or 0, the only one of a Cluster. */
  get database(): number {
    return this.client.isCluster ? 0 : ((this.client as Redis).options.db ?? 0);
  }

  /** Closes the subscription connections, and the command connection if the store made it. */
  close(): Promise<void> {
    this.#closed ??= Promise.all([
      this.subscriber.close(),
      this.#ownsClient ? disconnect(this.client) : undefined,
    ]).then(() => {});
    return this.#closed;
  }
}
