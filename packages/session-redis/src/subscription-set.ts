/**
 * Where a channel is subscribed.
 * - `"classic"`: SUBSCRIBE on one server. A Cluster forwards classic messages to every node, so
 *   one subscription anywhere hears them all: the store's channel, relay broadcasts, and a
 *   standalone relay member's channel.
 * - `"per-server"`: SUBSCRIBE on every server (every master of a Cluster), each of which publishes
 *   its own messages: keyspace events.
 * - `"sharded"`: SSUBSCRIBE on the master serving the channel's slot: a Cluster relay member's
 *   channels.
 */
export type ChannelKind = "classic" | "per-server" | "sharded";

/** Receives the messages of a channel. */
export type ChannelListener = (message: string, channel: string) => void;

/**
 * The channels a store listens on, by kind, each with its listener: what the subscription
 * connections must hold, and restore after a reconnect or a topology change. ioredis keeps a
 * record of the same shape (lib/SubscriptionSet.ts) of what Redis confirmed; this one holds what
 * the store asked for.
 */
export class SubscriptionSet {
  readonly #listeners: Record<ChannelKind, Map<string, ChannelListener>> = {
    classic: new Map(),
    "per-server": new Map(),
    sharded: new Map(),
  };

  add(kind: ChannelKind, channels: readonly string[], listener: ChannelListener): void {
    for (const channel of channels) this.#listeners[kind].set(channel, listener);
  }

  delete(kind: ChannelKind, channels: readonly string[]): void {
    for (const channel of channels) this.#listeners[kind].delete(channel);
  }

  listener(kind: ChannelKind, channel: string): ChannelListener | undefined {
    return this.#listeners[kind].get(channel);
  }

  has(kind: ChannelKind, channel: string): boolean {
    return this.#listeners[kind].has(channel);
  }

  channels(kind: ChannelKind): string[] {
    return [...this.#listeners[kind].keys()];
  }
}
