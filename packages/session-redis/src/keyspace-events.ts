import { once } from "node:events";
import {
  describeError,
  type EndReason,
  log,
  type SendLog,
  StoreConfigurationError,
} from "@mcp-sessions/session-core";
import type { Cluster, Redis, RedisOptions } from "ioredis";
import type { KeyLayout } from "./keys.js";
import type { KeyspaceEventsMode } from "./options.js";
import { isReplyError } from "./redis-errors.js";
import { DESTROYED, EXPIRED } from "./scripts.js";
import { resubscribingDuplicate, whenSubscribed } from "./subscriber.js";

const LOGGER = "session-redis/keyspace-events";
const TOPOLOGY_EVENTS = ["refresh", "+node", "-node"] as const;
/**
 * A Cluster's node connections never reconnect: ioredis drops one that fails and waits for a
 * MOVED or a slot refresh instead. A subscriber gets neither, so it reconnects by itself, with
 * ioredis's default backoff, until its master leaves the topology and `#syncMasters` closes it.
 */
const CLUSTER_SUBSCRIBER_OPTIONS: Partial<RedisOptions> = {
  retryStrategy: (times) => Math.min(times * 50, 2_000),
};

export interface StoreEventsOptions {
  readonly client: Redis | Cluster;
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
 * The store's subscriptions: its own channel (deletes and expiry claims from every instance) and,
 * unless sweep-only, `__keyevent@<db>__:expired` on every master, each on a duplicated
 * connection. In a Cluster, masters are followed as the topology changes.
 */
export class StoreEvents {
  readonly #options: StoreEventsOptions;
  /** Keyspace subscribers by master address ("host:port"). */
  readonly #nodeSubscribers = new Map<string, Redis>();
  #channelSubscriber: Redis | Cluster | undefined;
  #reconciling: Promise<void> = Promise.resolve();
  readonly #onTopologyChange = () => this.#reconcile();
  readonly #subscriberContext: { readonly logger: SendLog; readonly loggerName: string };
  #closed = false;

  constructor(options: StoreEventsOptions) {
    this.#options = options;
    this.#subscriberContext = { logger: options.logger, loggerName: LOGGER };
  }

  /**
   * Checks the server setting and subscribes. Rejects with `StoreConfigurationError` when
   * keyspace events are off and cannot be turned on.
   */
  async start(): Promise<void> {
    try {
      await this.#subscribeAll();
    } catch (error) {
      // Leave nothing half-subscribed behind, so a later start() begins clean.
      await this.#release();
      throw error;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#release();
  }

  /** Resolves once every subscriber that reconnected is subscribed again. */
  async subscribed(): Promise<void> {
    const subscribers = [...this.#nodeSubscribers.values()];
    if (this.#channelSubscriber && !this.#channelSubscriber.isCluster) {
      subscribers.push(this.#channelSubscriber as Redis);
    }
    await Promise.all(subscribers.map((subscriber) => whenSubscribed(subscriber)));
  }

  async #subscribeAll(): Promise<void> {
    const { client } = this.#options;
    const channel = { classic: new Set([this.#options.keys.channel]), sharded: new Set<string>() };
    // A Cluster's subscriber is ioredis's ClusterSubscriber, which re-subscribes on its own.
    const channelSubscriber: Redis | Cluster = client.isCluster
      ? (client as Cluster).duplicate()
      : resubscribingDuplicate(client as Redis, () => channel, this.#subscriberContext);
    this.#channelSubscriber = channelSubscriber;
    channelSubscriber.on("message", (channel: string, message: string) =>
      this.#onChannelMessage(channel, message),
    );
    channelSubscriber.on("error", (error: unknown) => this.#logConnectionError(error));
    await channelSubscriber.subscribe(this.#options.keys.channel);
    if (this.#options.mode === "sweep-only") return;
    if (client.isCluster) {
      const cluster = client as Cluster;
      // A failover or resharding changes the masters; follow them.
      for (const event of TOPOLOGY_EVENTS) cluster.on(event, this.#onTopologyChange);
      // Queued behind topology changes, never beside one: two syncs at once would both see a
      // master unsubscribed and each subscribe it, leaking one connection.
      const synced = this.#reconciling.then(() => this.#syncMasters());
      // The queue only orders syncs; this one's error reaches start()'s caller through `synced`.
      this.#reconciling = synced.catch(() => {});
      await synced;
    } else {
      await this.#subscribeNode(client as Redis, keyeventChannel(client as Redis));
    }
  }

  async #release(): Promise<void> {
    for (const event of TOPOLOGY_EVENTS) this.#options.client.off(event, this.#onTopologyChange);
    await this.#reconciling;
    const connections = [...this.#nodeSubscribers.values()];
    this.#nodeSubscribers.clear();
    if (this.#channelSubscriber) connections.push(this.#channelSubscriber as Redis);
    this.#channelSubscriber = undefined;
    await Promise.all(connections.map((connection) => disconnect(connection)));
  }

  #reconcile(): void {
    this.#reconciling = this.#reconciling
      .then(() => this.#syncMasters())
      .catch((error: unknown) => {
        log(this.#options.logger, {
          level: "error",
          logger: LOGGER,
          data: { message: "Could not follow the Cluster's masters", error: describeError(error) },
        });
      });
  }

  async #syncMasters(): Promise<void> {
    if (this.#closed) return;
    const masters = (this.#options.client as Cluster).nodes("master");
    const current = new Map(masters.map((node) => [address(node), node]));
    for (const [key, subscriber] of this.#nodeSubscribers) {
      if (!current.has(key)) {
        this.#nodeSubscribers.delete(key);
        await disconnect(subscriber);
      }
    }
    // Cluster mode has one database: 0.
    await Promise.all(
      [...current]
        .filter(([key]) => !this.#nodeSubscribers.has(key))
        .map(([, node]) =>
          this.#subscribeNode(node, "__keyevent@0__:expired", CLUSTER_SUBSCRIBER_OPTIONS),
        ),
    );
  }

  /**
   * `node` is a command connection to one server; its duplicate, with `overrides`, becomes the
   * subscriber.
   */
  async #subscribeNode(
    node: Redis,
    channel: string,
    overrides: Partial<RedisOptions> = {},
  ): Promise<void> {
    if (this.#options.mode === "configure") await ensureKeyspaceEvents(node);
    const subscriptions = { classic: new Set([channel]), sharded: new Set<string>() };
    const subscriber = resubscribingDuplicate(
      node,
      () => subscriptions,
      this.#subscriberContext,
      overrides,
    );
    this.#nodeSubscribers.set(address(node), subscriber);
    subscriber.on("message", (_channel: string, key: string) => {
      const id = this.#options.keys.idOfSessionKey(key);
      if (id !== undefined) this.#options.onExpiredKey(id);
    });
    subscriber.on("error", (error: unknown) => this.#logConnectionError(error));
    let connectedBefore = false;
    subscriber.on("ready", () => {
      // CONFIG SET does not survive a Redis restart: check again after every reconnect.
      if (connectedBefore && this.#options.mode === "configure") {
        ensureKeyspaceEvents(node).catch((error: unknown) => {
          log(this.#options.logger, {
            level: "error",
            logger: LOGGER,
            data: {
              message:
                "Keyspace events are off after a reconnect; only the sweeper finds expired sessions",
              error: describeError(error),
            },
          });
        });
      }
      connectedBefore = true;
    });
    await subscriber.subscribe(channel);
  }

  #onChannelMessage(channel: string, message: string): void {
    if (channel !== this.#options.keys.channel) return;
    const reason = message.startsWith(DESTROYED)
      ? "destroyed"
      : message.startsWith(EXPIRED)
        ? "expired"
        : undefined;
    // "<kind><instance>:<id>": instance ids hold no ":", session ids may.
    const separator = message.indexOf(":", 2);
    if (reason === undefined || separator === -1) return;
    if (message.slice(2, separator) === this.#options.instanceId) return;
    this.#options.onEnded(message.slice(separator + 1), reason);
  }

  #logConnectionError(error: unknown): void {
    // ioredis reconnects by itself; this is the only notice that a subscriber is down.
    log(this.#options.logger, {
      level: "warning",
      logger: LOGGER,
      data: { message: "Subscriber connection error; reconnecting", error: describeError(error) },
    });
  }
}

/**
 * Makes sure `node` publishes expired-key events (`E` and `x`, or `A`), adding them if they are
 * missing. CONFIG SET does not survive a restart, so call it again after reconnecting.
 * @throws StoreConfigurationError (`STORE_MISCONFIGURED`) when the setting is off and CONFIG is refused
 */
export async function ensureKeyspaceEvents(node: Redis): Promise<void> {
  let flags: string;
  try {
    const reply: unknown = await node.config("GET", "notify-keyspace-events");
    flags = configValue(reply);
  } catch (error) {
    if (!isReplyError(error)) throw error;
    throw new StoreConfigurationError(
      `Cannot read notify-keyspace-events: CONFIG GET was refused (${error.message}). Set it to include \`Ex\` on the server, then pass \`keyspaceEvents: "subscribe"\`; or pass \`keyspaceEvents: "sweep-only"\``,
      { cause: error },
    );
  }
  if (flags.includes("E") && (flags.includes("x") || flags.includes("A"))) return;
  const wanted = [...new Set(`${flags}Ex`)].join("");
  try {
    await node.config("SET", "notify-keyspace-events", wanted);
  } catch (error) {
    if (!isReplyError(error)) throw error;
    throw new StoreConfigurationError(
      `notify-keyspace-events is "${flags}", which lacks \`Ex\`, and CONFIG SET was refused (${error.message}). Set it to include \`Ex\` on the server, then pass \`keyspaceEvents: "subscribe"\`; or pass \`keyspaceEvents: "sweep-only"\``,
      { cause: error },
    );
  }
}

function keyeventChannel(client: Redis): string {
  return `__keyevent@${client.options.db ?? 0}__:expired`;
}

/** CONFIG GET answers `[name, value]`, or a map under RESP3 with `replyMapping: "resp3"`. */
function configValue(reply: unknown): string {
  if (Array.isArray(reply)) return String(reply[1] ?? "");
  if (typeof reply === "object" && reply !== null) {
    return String(Object.values(reply)[0] ?? "");
  }
  return "";
}

function address(node: Redis): string {
  return `${node.options.host}:${node.options.port}`;
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
