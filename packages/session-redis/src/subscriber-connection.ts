import type { Redis, RedisOptions } from "ioredis";
import {
  closeHandler,
  disconnect,
  errorHandler,
  type LogContext,
  readyHandler,
  SubscribedState,
} from "./event-handler.js";
import { keySlot } from "./key-slot.js";

/** How a connection subscribes: SUBSCRIBE, or SSUBSCRIBE (Redis 7 sharded pub/sub). */
export type SubscriptionKind = "classic" | "sharded";

export interface SubscriberConnectionOptions {
  /** A command connection to the server; it is duplicated, and never subscribes itself. */
  readonly server: Redis;
  readonly kind: SubscriptionKind;
  /** What CLIENT LIST shows for the connection. */
  readonly connectionName: string;
  /** Options for the duplicate beyond `server`'s own. */
  readonly overrides: Partial<RedisOptions>;
  readonly log: LogContext;
  onMessage(connection: SubscriberConnection, channel: string, message: string): void;
  /** The connection came back after it had dropped: server state may be gone with it. */
  onReconnect(connection: SubscriberConnection): void;
  /** Redis said a sharded channel's slot is served elsewhere now (MOVED, or a migration). */
  onMoved(): void;
}

/**
 * One connection subscribed to one server, of one kind, and the channels it should hold, which it
 * subscribes to again after each reconnect. Classic and sharded channels never share a connection:
 * Redis counts each kind apart in its (S)UNSUBSCRIBE replies, and a count of 0 for one kind makes
 * ioredis leave subscriber mode while the other kind still delivers, and lose those messages.
 */
export class SubscriberConnection {
  readonly server: Redis;
  readonly kind: SubscriptionKind;
  readonly state = new SubscribedState();
  readonly #connection: Redis;
  readonly #channels = new Set<string>();

  constructor(options: SubscriberConnectionOptions) {
    this.server = options.server;
    this.kind = options.kind;
    this.#connection = options.server.duplicate({
      ...options.overrides,
      connectionName: options.connectionName,
      autoResubscribe: false,
    });
    const label = this.kind === "classic" ? "Subscriber" : "Sharded subscriber";
    this.#connection.on("error", errorHandler(options.log, label));
    this.#connection.on("close", closeHandler(this));
    this.#connection.on(
      "ready",
      readyHandler(this, options.log, () => options.onReconnect(this)),
    );
    this.#connection.on(this.kind === "classic" ? "message" : "smessage", (channel, message) =>
      options.onMessage(this, channel, message),
    );
    this.#connection.on("moved", () => options.onMoved());
  }

  has(channel: string): boolean {
    return this.#channels.has(channel);
  }

  channels(): string[] {
    return [...this.#channels];
  }

  /** Adds `channels` and subscribes to them; resolves once Redis confirmed. */
  subscribe(channels: readonly string[]): Promise<void> {
    for (const channel of channels) this.#channels.add(channel);
    return this.#send("subscribe", channels);
  }

  /** Removes `channels` and unsubscribes from them; resolves once Redis confirmed. */
  unsubscribe(channels: readonly string[]): Promise<void> {
    for (const channel of channels) this.#channels.delete(channel);
    return this.#send("unsubscribe", channels);
  }

  resubscribe(): Promise<void> {
    return this.#send("subscribe", this.channels());
  }

  /** Resolves once the connection is subscribed again after its latest reconnect. */
  subscribed(): Promise<void> {
    return this.state.current;
  }

  async close(): Promise<void> {
    this.state.end();
    await disconnect(this.#connection);
  }

  async #send(action: "subscribe" | "unsubscribe", channels: readonly string[]): Promise<void> {
    if (channels.length === 0) return;
    if (this.kind === "classic") {
      await (action === "subscribe"
        ? this.#connection.subscribe(...channels)
        : this.#connection.unsubscribe(...channels));
      return;
    }
    // A Cluster takes the channels of one slot per SSUBSCRIBE.
    await Promise.all(
      [...groupBySlot(channels)].map((group) =>
        action === "subscribe"
          ? this.#connection.ssubscribe(...group)
          : this.#connection.sunsubscribe(...group),
      ),
    );
  }
}

function groupBySlot(channels: readonly string[]): Iterable<string[]> {
  const bySlot = new Map<number, string[]>();
  for (const channel of channels) {
    const slot = keySlot(channel);
    const group = bySlot.get(slot);
    if (group === undefined) bySlot.set(slot, [channel]);
    else group.push(channel);
  }
  return bySlot.values();
}
