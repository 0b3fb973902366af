import { randomUUID } from "node:crypto";
import type {
  HoldOptions,
  PublishOptions,
  RelayListener,
  RelayMember,
  RelayMessage,
  SendLog,
  SessionRelay,
  StreamEvent,
} from "@mcp-sessions/session-core";
import { describeError, log, unrefTimeout } from "@mcp-sessions/session-core/store";
import type { Cluster, Redis } from "ioredis";
import type { KeyLayout } from "./keys.js";
import {
  classicAddressing,
  type MemberAddressing,
  shardedAddressing,
} from "./member-addressing.js";
import { closedError, withDeadline } from "./redis-errors.js";
import { assertFrameField, encodeBroadcast, encodeMessage, parseFrame } from "./relay-frames.js";
import { RelayScripts } from "./relay-scripts.js";
import type { Subscriber } from "./subscriber.js";

const LOGGER = "session-redis/relay";
/** Wait before subscribing a member again after Redis did not confirm it, in ms. */
const SUBSCRIBE_RETRY_MS = 1_000;

export interface RedisRelayOptions {
  readonly client: Redis | Cluster;
  /** The store's subscription connections, which the members' channels join. */
  readonly subscriber: Subscriber;
  readonly keys: KeyLayout;
  readonly maxEventsPerSession: number;
  readonly commandTimeoutMs: number;
  readonly logger: SendLog;
  /**
   * Runs one Redis call as the store runs its own: rejected once the store is closed, bounded by
   * `commandTimeoutMs`, failures as `StoreUnavailableError`, and awaited by the store's close().
   */
  run<T>(what: string, call: () => Promise<T>): Promise<T>;
}

/** One member of this store, from join until it leaves or the store closes. */
interface Membership {
  readonly id: string;
  readonly listener: RelayListener;
  readonly channels: { readonly classic: string[]; readonly sharded: string[] };
  readonly ready: Promise<void>;
  /** Resolves `ready`. */
  readonly settle: () => void;
  /** The next subscribe attempt while Redis has not confirmed one. */
  retryTimer: NodeJS.Timeout | undefined;
  /** False once the member left or the store closed: nothing is delivered to it or retried. */
  active: boolean;
}

/**
 * The relay of a `RedisSessionStore`: members of every instance sharing the Redis and prefix
 * reach each other through pub/sub, and each session's events and stream holds live in keys
 * under the session's hash tag, which expire and are deleted with the session. Every operation
 * is one round trip.
 */
export class RedisRelay implements SessionRelay {
  /** Members in every process on this Redis and prefix reach each other. */
  readonly shared = true;
  readonly #options: RedisRelayOptions;
  readonly #addressing: MemberAddressing;
  readonly #scripts: RelayScripts;
  readonly #members = new Map<string, Membership>();
  /** The member listening on each member channel; a message on any other channel is stray. */
  readonly #byChannel = new Map<string, Membership>();
  #closed = false;

  constructor(options: RedisRelayOptions) {
    this.#options = options;
    const { client, keys } = options;
    this.#addressing = client.isCluster ? shardedAddressing(keys) : classicAddressing(keys);
    this.#scripts = new RelayScripts(client, keys, this.#addressing, options.maxEventsPerSession);
  }

  /** @throws StoreClosedError (`STORE_CLOSED`) after the store's close() */
  join(listener: RelayListener): RelayMember {
    if (this.#closed) throw closedError();
    const id = randomUUID();
    let settle = (): void => {};
    const ready = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const membership: Membership = {
      id,
      listener,
      channels: this.#addressing.channelsOf(id),
      ready,
      settle,
      retryTimer: undefined,
      active: true,
    };
    this.#members.set(id, membership);
    for (const channel of [...membership.channels.classic, ...membership.channels.sharded]) {
      this.#byChannel.set(channel, membership);
    }
    this.#subscribe(membership);
    let left: Promise<void> | undefined;
    return {
      id,
      ready,
      send: (to, sessionId, message) => this.#send(to, sessionId, message),
      broadcast: (sessionId, message) => this.#broadcast(id, sessionId, message),
      publish: (sessionId, streamId, message, options) =>
        this.#publish(sessionId, streamId, message, options),
      hold: (sessionId, streamId, options) => this.#hold(membership, sessionId, streamId, options),
      release: (sessionId, streamId) =>
        this.#options.run("relay release", () => this.#scripts.release(id, sessionId, streamId)),
      leave: () => {
        left ??= this.#leave(membership);
        return left;
      },
    };
  }

  /** Drops every member: nothing is delivered after this. The store closes the connections. */
  close(): void {
    this.#closed = true;
    for (const membership of [...this.#members.values()]) this.#drop(membership);
  }

  /**
   * Subscribes the member's channels and the broadcast channel, retrying every
   * `SUBSCRIBE_RETRY_MS` until Redis confirms or the member is gone.
   */
  #subscribe(membership: Membership): void {
    const { classic, sharded } = membership.channels;
    const { subscriber, keys } = this.#options;
    withDeadline("relay subscribe", this.#options.commandTimeoutMs, () =>
      Promise.all([
        subscriber.listen("classic", [keys.broadcastChannel, ...classic], this.#onMessage),
        sharded.length > 0 ? subscriber.listen("sharded", sharded, this.#onMessage) : undefined,
      ]),
    ).then(membership.settle, (error: unknown) => {
      if (!membership.active) return;
      log(this.#options.logger, {
        level: "warning",
        logger: LOGGER,
        data: {
          message: `Relay member could not subscribe; retrying in ${SUBSCRIBE_RETRY_MS} ms`,
          error: describeError(error),
        },
      });
      membership.retryTimer = unrefTimeout(() => {
        if (membership.active) this.#subscribe(membership);
      }, SUBSCRIBE_RETRY_MS);
    });
  }

  async #send(to: string, sessionId: string, message: RelayMessage): Promise<boolean> {
    assertFrameField("sessionId", sessionId);
    const frame = encodeMessage(sessionId, message);
    const bucket = this.#options.keys.bucketOf(sessionId);
    const channel = `${this.#addressing.channelPrefix(bucket)}${to}`;
    const receivers = await this.#options.run("relay send", () =>
      this.#options.client.call(this.#addressing.publishCommand, channel, frame),
    );
    return Number(receivers) > 0;
  }

  async #broadcast(senderId: string, sessionId: string, message: RelayMessage): Promise<void> {
    assertFrameField("sessionId", sessionId);
    const frame = encodeBroadcast(senderId, sessionId, message);
    // A Cluster forwards classic pub/sub to every node; nobody needs the count here.
    await this.#options.run("relay broadcast", () =>
      this.#options.client.publish(this.#options.keys.broadcastChannel, frame),
    );
  }

  async #publish(
    sessionId: string,
    streamId: string,
    message: RelayMessage,
    options: PublishOptions,
  ): Promise<string | undefined> {
    assertFrameField("sessionId", sessionId);
    assertFrameField("streamId", streamId);
    const json = JSON.stringify(message);
    return this.#options.run("relay publish", () =>
      this.#scripts.publish(sessionId, streamId, json, options.store),
    );
  }

  #hold(
    membership: Membership,
    sessionId: string,
    streamId: string,
    options: HoldOptions = {},
  ): Promise<readonly StreamEvent[] | undefined> {
    return this.#options.run("relay hold", async () => {
      // A holder that is not subscribed yet hears nothing, and the first event would drop it as
      // gone: wait for the subscription, within the command's deadline.
      await membership.ready;
      return this.#scripts.hold(membership.id, sessionId, streamId, options.after);
    });
  }

  async #leave(membership: Membership): Promise<void> {
    // Delivery stops at once, whatever Redis says.
    if (!membership.active) return;
    this.#drop(membership);
    const { classic, sharded } = membership.channels;
    const { subscriber, keys } = this.#options;
    // The last member out takes the broadcast channel with it; a later join subscribes it again.
    const leaving = this.#members.size === 0 ? [keys.broadcastChannel, ...classic] : classic;
    try {
      await this.#options.run("relay leave", () =>
        Promise.all([
          subscriber.unlisten("classic", leaving),
          subscriber.unlisten("sharded", sharded),
        ]),
      );
    } catch (error) {
      // close() took every subscription down with the connection: nothing is left to undo.
      if (!this.#closed) throw error;
    }
  }

  /** Forgets a member. Its `ready` resolves, so nobody waits on a member that stopped trying. */
  #drop(membership: Membership): void {
    membership.active = false;
    clearTimeout(membership.retryTimer);
    this.#members.delete(membership.id);
    for (const channel of [...membership.channels.classic, ...membership.channels.sharded]) {
      this.#byChannel.delete(channel);
    }
    membership.settle();
  }

  /** Delivers one pub/sub message to the members it is for. */
  readonly #onMessage = (payload: string, channel: string): void => {
    const broadcast = channel === this.#options.keys.broadcastChannel;
    // A member that left or was dropped hears nothing more, whatever is still in flight.
    const membership = broadcast ? undefined : this.#byChannel.get(channel);
    if (!broadcast && membership === undefined) return;
    const frame = parseFrame(payload);
    if (frame === undefined || (frame.kind === "broadcast") !== broadcast) {
      // Never the payload: it is a client's message.
      log(this.#options.logger, {
        level: "warning",
        logger: LOGGER,
        data: { message: "Dropped a malformed relay message" },
      });
      return;
    }
    if (frame.kind === "broadcast") {
      for (const member of [...this.#members.values()]) {
        if (member.id !== frame.senderId) {
          this.#deliver(() => member.listener.message(frame.sessionId, frame.message));
        }
      }
    } else if (membership !== undefined) {
      const { listener } = membership;
      if (frame.kind === "message") {
        this.#deliver(() => listener.message(frame.sessionId, frame.message));
      } else {
        this.#deliver(() => listener.event(frame.sessionId, frame.streamId, frame.event));
      }
    }
  };

  #deliver(call: () => void): void {
    try {
      call();
    } catch (error) {
      log(this.#options.logger, {
        level: "error",
        logger: LOGGER,
        data: { message: "Relay listener threw", error: describeError(error) },
      });
    }
  }
}
