import {
  defaultSendLog,
  type HoldOptions,
  type PublishOptions,
  type RelayListener,
  type RelayMember,
  type RelayMessage,
  type SendLog,
  type SessionRelay,
  type StreamEvent,
} from "@mcp-sessions/session-core";
import { describeError, log } from "@mcp-sessions/session-core/store";

const LOGGER = "session-memory/relay";

interface StoredEvent {
  readonly position: string;
  readonly streamId: string;
  readonly message: RelayMessage;
}

/** A session's event log and stream holds. */
interface SessionLog {
  readonly events: StoredEvent[];
  /** Stream id → id of the member holding it. */
  readonly holders: Map<string, string>;
}

export interface MemoryRelayOptions {
  /** True while the session exists: nothing is logged or held for a session that is gone. */
  readonly isLive: (sessionId: string) => boolean;
  /**
   * Events kept per session; the oldest go first.
   * @default 1_000
   */
  readonly maxEventsPerSession?: number;
  /** @default warnings and errors as JSON lines on stderr */
  readonly logger?: SendLog;
}

/** Events a session's log keeps by default. */
export const DEFAULT_MAX_EVENTS_PER_SESSION = 1_000;

/**
 * The relay of the members of one process that serve a `MemorySessionStore`'s sessions. Deliveries
 * go through the microtask queue, in order, never inside the caller's stack.
 */
export class MemoryRelay implements SessionRelay {
  /** Its members are in this process only. */
  readonly shared = false;
  readonly #isLive: (sessionId: string) => boolean;
  readonly #maxEventsPerSession: number;
  readonly #logger: SendLog;
  readonly #members = new Map<string, RelayListener>();
  readonly #logs = new Map<string, SessionLog>();
  /** Positions count up across the store, so a position never names two events. */
  #lastPosition = 0;
  #lastMember = 0;

  constructor(options: MemoryRelayOptions) {
    this.#isLive = options.isLive;
    this.#maxEventsPerSession = options.maxEventsPerSession ?? DEFAULT_MAX_EVENTS_PER_SESSION;
    this.#logger = options.logger ?? defaultSendLog;
  }

  join(listener: RelayListener): RelayMember {
    const id = `m${++this.#lastMember}`;
    this.#members.set(id, listener);
    return {
      id,
      ready: Promise.resolve(),
      send: async (to, sessionId, message) => {
        const target = this.#members.get(to);
        if (target === undefined) return false;
        this.#deliver(() => target.message(sessionId, message));
        return true;
      },
      broadcast: async (sessionId, message) => {
        for (const [memberId, target] of this.#members) {
          if (memberId !== id) this.#deliver(() => target.message(sessionId, message));
        }
      },
      publish: async (sessionId, streamId, message, options) =>
        this.#publish(sessionId, streamId, message, options),
      hold: async (sessionId, streamId, options) => this.#hold(id, sessionId, streamId, options),
      release: async (sessionId, streamId) => {
        const holders = this.#logs.get(sessionId)?.holders;
        if (holders?.get(streamId) === id) holders.delete(streamId);
      },
      leave: async () => {
        this.#members.delete(id);
      },
    };
  }

  /** Drops a session's log and holds: the store calls it when the session ends. */
  forget(sessionId: string): void {
    this.#logs.delete(sessionId);
  }

  /** Drops every log and member. */
  clear(): void {
    this.#logs.clear();
    this.#members.clear();
  }

  #publish(
    sessionId: string,
    streamId: string,
    message: RelayMessage,
    options: PublishOptions,
  ): string | undefined {
    const sessionLog = this.#logOf(sessionId);
    if (sessionLog === undefined) return undefined;
    let position: string | undefined;
    if (options.store) {
      position = String(++this.#lastPosition);
      sessionLog.events.push({ position, streamId, message });
      const excess = sessionLog.events.length - this.#maxEventsPerSession;
      if (excess > 0) sessionLog.events.splice(0, excess);
    }
    const holder = sessionLog.holders.get(streamId);
    const target = holder === undefined ? undefined : this.#members.get(holder);
    const event: StreamEvent = position === undefined ? { message } : { position, message };
    if (target) this.#deliver(() => target.event(sessionId, streamId, event));
    return position;
  }

  #hold(
    memberId: string,
    sessionId: string,
    streamId: string,
    options: HoldOptions = {},
  ): readonly StreamEvent[] | undefined {
    const sessionLog = this.#logOf(sessionId);
    if (sessionLog === undefined) return undefined;
    sessionLog.holders.set(streamId, memberId);
    if (options.after === undefined) return [];
    const start = sessionLog.events.findIndex((event) => event.position === options.after);
    if (start === -1) return undefined;
    return sessionLog.events
      .slice(start + 1)
      .filter((event) => event.streamId === streamId)
      .map(({ position, message }) => ({ position, message }));
  }

  #logOf(sessionId: string): SessionLog | undefined {
    if (!this.#isLive(sessionId)) return undefined;
    let sessionLog = this.#logs.get(sessionId);
    if (sessionLog === undefined) {
      sessionLog = { events: [], holders: new Map() };
      this.#logs.set(sessionId, sessionLog);
    }
    return sessionLog;
  }

  #deliver(call: () => void): void {
    queueMicrotask(() => {
      try {
        call();
      } catch (error) {
        log(this.#logger, {
          level: "error",
          logger: LOGGER,
          data: { message: "Relay listener threw", error: describeError(error) },
        });
      }
    });
  }
}
