import { StoreUnavailableError } from "@mcp-sessions/session-core";
import { describeError, log } from "@mcp-sessions/session-core/store";
import type { Redis } from "ioredis";
import type { LogContext } from "./event-handler.js";
import { closedError } from "./redis-errors.js";
import { SubscriberConnection, type SubscriptionKind } from "./subscriber-connection.js";
import { type ChannelKind, type ChannelListener, SubscriptionSet } from "./subscription-set.js";
import type { Topology } from "./topology.js";

export interface SubscriberOptions {
  readonly topology: Topology;
  /** What CLIENT LIST shows for the connections of each kind. */
  readonly connectionNames: Readonly<Record<SubscriptionKind, string>>;
  readonly log: LogContext;
}

/** What a registrant runs on the servers as they come and go. */
export interface ServerHooks {
  /**
   * A server joined after the topology was first known (a Cluster's new master). Its
   * subscription connections subscribe once every hook resolved.
   */
  joined(server: Redis): Promise<void>;
  /** A subscription connection to `server` came back after a drop: server state may be gone. */
  reconnected(server: Redis): void;
}

const SUBSCRIPTION_KINDS: readonly SubscriptionKind[] = ["classic", "sharded"];
const CHANNEL_KINDS: readonly ChannelKind[] = ["classic", "per-server", "sharded"];

/**
 * Every subscription of a store, on as few connections as Redis allows: standalone, one; in a
 * Cluster, one per master for classic channels (its keyspace events, and on one of them the
 * channels any node hears) and one per master for the sharded channels of its slots, each made
 * when a channel first needs it. The store's events, keyspace events and the relay register
 * channels here, with a listener each. Connections subscribe again after every reconnect, and
 * follow a Cluster's masters and slots.
 */
export class Subscriber {
  readonly #options: SubscriberOptions;
  readonly #wanted = new SubscriptionSet();
  /** By kind, then by server address. A connection holds exactly what `#align` placed on it. */
  readonly #connections: Record<SubscriptionKind, Map<string, SubscriberConnection>> = {
    classic: new Map(),
    sharded: new Map(),
  };
  /** The servers as of the latest sync, by address. */
  #servers: ReadonlyMap<string, Redis> = new Map();
  /** The server whose classic connection holds the "classic" channels. */
  #home: string | undefined;
  readonly #hooks = new Set<ServerHooks>();
  /** Syncs run one after another: two at once would both make the connection of a new server. */
  #syncing: Promise<void> = Promise.resolve();
  #known = false;
  /** Resolves with the first sync that found a server; rejects on close before that. */
  readonly #whenKnown: Promise<void>;
  #settleKnown: (error?: Error) => void = () => {};
  readonly #unwatch: () => void;
  #closed: Promise<void> | undefined;

  constructor(options: SubscriberOptions) {
    this.#options = options;
    this.#whenKnown = new Promise<void>((resolve, reject) => {
      this.#settleKnown = (error) => (error === undefined ? resolve() : reject(error));
    });
    // Whoever waits gets the rejection; this keeps it from going unhandled when nobody does.
    this.#whenKnown.catch(() => {});
    this.#unwatch = options.topology.watch(() => this.#resync());
    this.#resync();
  }

  /**
   * Subscribes to `channels` of `kind`, whose messages go to `listener`. Resolves once Redis
   * confirmed every one. A channel stays wanted, and is subscribed again after each reconnect,
   * until `unlisten`, even if this rejects.
   * @throws StoreClosedError (`STORE_CLOSED`) after close(); StoreUnavailableError when no
   *   server serves a channel's slot yet
   */
  listen(kind: ChannelKind, channels: readonly string[], listener: ChannelListener): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    this.#wanted.add(kind, channels, listener);
    if (this.#known) return this.#subscribe(kind, channels);
    return this.#whenKnown.then(() =>
      this.#subscribe(
        kind,
        channels.filter((channel) => this.#wanted.has(kind, channel)),
      ),
    );
  }

  /** Stops delivery of `channels` at once and unsubscribes; resolves once Redis confirmed. */
  unlisten(kind: ChannelKind, channels: readonly string[]): Promise<void> {
    this.#wanted.delete(kind, channels);
    // close() takes every subscription down with the connections.
    if (this.#closed) return Promise.resolve();
    if (this.#known) return this.#unsubscribe(kind, channels);
    return this.#whenKnown.then(() =>
      this.#unsubscribe(
        kind,
        channels.filter((channel) => !this.#wanted.has(kind, channel)),
      ),
    );
  }

  /** Command connections of the servers subscribed on: the client, or every master. */
  async servers(): Promise<Redis[]> {
    await this.#whenKnown;
    return [...this.#servers.values()];
  }

  /** Runs `hooks` as servers join and connections come back; returns what stops it. */
  watchServers(hooks: ServerHooks): () => void {
    this.#hooks.add(hooks);
    return () => {
      this.#hooks.delete(hooks);
    };
  }

  /** Resolves once every connection that reconnected is subscribed again. */
  async subscribed(): Promise<void> {
    await Promise.all(this.#allConnections().map((connection) => connection.subscribed()));
  }

  /** Closes every subscription connection. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#unwatch();
      this.#settleKnown(closedError());
      await this.#syncing;
      const connections = this.#allConnections();
      for (const kind of SUBSCRIPTION_KINDS) this.#connections[kind].clear();
      await Promise.all(connections.map((connection) => connection.close()));
    })();
    return this.#closed;
  }

  #subscribe(kind: ChannelKind, channels: readonly string[]): Promise<void> {
    const placed = new Map<SubscriberConnection, string[]>();
    let unplaced = 0;
    for (const channel of channels) {
      const places = this.#placesOf(kind, channel);
      if (places.length === 0) unplaced++;
      for (const connection of places) append(placed, connection, channel);
    }
    const subscribed = Promise.all(
      [...placed].map(([connection, group]) => connection.subscribe(group)),
    );
    return subscribed.then(() => {
      if (unplaced > 0) {
        // Still wanted: the sync after the client learns the slot's master subscribes them.
        throw new StoreUnavailableError(
          `No Redis master is known for the slot of ${unplaced} channel(s) yet`,
        );
      }
    });
  }

  #unsubscribe(kind: ChannelKind, channels: readonly string[]): Promise<void> {
    const connections = this.#connections[kind === "sharded" ? "sharded" : "classic"];
    return Promise.all(
      [...connections.values()].map((connection) =>
        connection.unsubscribe(channels.filter((channel) => connection.has(channel))),
      ),
    ).then(() => {});
  }

  /** The connections `channel` of `kind` belongs on now, made if they do not exist yet. */
  #placesOf(kind: ChannelKind, channel: string): SubscriberConnection[] {
    if (kind === "per-server") {
      return [...this.#servers.keys()].map((address) => this.#connection("classic", address));
    }
    const address = kind === "classic" ? this.#home : this.#options.topology.ownerOf(channel);
    if (address === undefined || !this.#servers.has(address)) return [];
    return [this.#connection(kind, address)];
  }

  #connection(kind: SubscriptionKind, address: string): SubscriberConnection {
    const existing = this.#connections[kind].get(address);
    if (existing !== undefined) return existing;
    const connection = new SubscriberConnection({
      server: this.#servers.get(address) as Redis,
      kind,
      connectionName: this.#options.connectionNames[kind],
      overrides: this.#options.topology.connectionOptions,
      log: this.#options.log,
      onMessage: (from, channel, message) => this.#onMessage(from, channel, message),
      onReconnect: (from) => {
        for (const hooks of this.#hooks) hooks.reconnected(from.server);
      },
      onMoved: () => this.#options.topology.refresh(),
    });
    this.#connections[kind].set(address, connection);
    return connection;
  }

  #onMessage(connection: SubscriberConnection, channel: string, message: string): void {
    const listener =
      connection.kind === "sharded"
        ? this.#wanted.listener("sharded", channel)
        : (this.#wanted.listener("per-server", channel) ??
          this.#wanted.listener("classic", channel));
    if (listener === undefined || !connection.has(channel)) {
      // Nobody listens here: an unsubscribe that could not reach Redis, or a channel placed on
      // another connection since. Until it is gone, a send to it would count a receiver.
      connection
        .unsubscribe([channel])
        .catch((error: unknown) =>
          this.#log(
            "warning",
            "Could not unsubscribe a channel nobody listens on; retried on its next message",
            error,
          ),
        );
      return;
    }
    try {
      listener(message, channel);
    } catch (error) {
      this.#log("error", "A channel listener threw", error);
    }
  }

  #resync(): void {
    this.#syncing = this.#syncing
      .then(() => this.#sync())
      .catch((error: unknown) =>
        this.#log("error", "Could not follow the Cluster's masters", error),
      );
  }

  async #sync(): Promise<void> {
    if (this.#closed) return;
    const servers = this.#options.topology.servers();
    if (servers.size === 0) return;
    if (this.#known) {
      const joined = [...servers].filter(([address]) => !this.#servers.has(address));
      // A new master's connections subscribe after the hooks: CONFIG SET there comes first.
      await Promise.all(
        joined.flatMap(([, server]) => [...this.#hooks].map((hooks) => hooks.joined(server))),
      );
      if (this.#closed) return;
    }
    this.#servers = servers;
    const leaving: SubscriberConnection[] = [];
    for (const kind of SUBSCRIPTION_KINDS) {
      for (const [address, connection] of this.#connections[kind]) {
        if (servers.has(address)) continue;
        this.#connections[kind].delete(address);
        leaving.push(connection);
      }
    }
    // The home moves only when its server left: classic channels stay where they are.
    if (this.#home === undefined || !servers.has(this.#home)) {
      this.#home = servers.keys().next().value;
    }
    this.#align();
    if (!this.#known) {
      this.#known = true;
      this.#settleKnown();
    }
    await Promise.all(leaving.map((connection) => connection.close()));
  }

  /** Makes every connection hold exactly the channels that belong on it now. */
  #align(): void {
    const wanted = new Map<SubscriberConnection, string[]>();
    for (const kind of CHANNEL_KINDS) {
      for (const channel of this.#wanted.channels(kind)) {
        for (const connection of this.#placesOf(kind, channel)) append(wanted, connection, channel);
      }
    }
    for (const connection of this.#allConnections()) {
      const belongs = new Set(wanted.get(connection));
      const extra = connection.channels().filter((channel) => !belongs.has(channel));
      const missing = [...belongs].filter((channel) => !connection.has(channel));
      for (const change of [connection.unsubscribe(extra), connection.subscribe(missing)]) {
        change.catch((error: unknown) =>
          this.#log(
            "warning",
            "Could not follow a topology change on a subscription; it subscribes again when its connection is next ready",
            error,
          ),
        );
      }
    }
  }

  #allConnections(): SubscriberConnection[] {
    return SUBSCRIPTION_KINDS.flatMap((kind) => [...this.#connections[kind].values()]);
  }

  #log(level: "warning" | "error", message: string, error: unknown): void {
    const { logger, loggerName } = this.#options.log;
    log(logger, { level, logger: loggerName, data: { message, error: describeError(error) } });
  }
}

function append<K>(groups: Map<K, string[]>, key: K, value: string): void {
  const group = groups.get(key);
  if (group === undefined) groups.set(key, [value]);
  else group.push(value);
}
