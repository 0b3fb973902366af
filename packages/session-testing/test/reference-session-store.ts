import { randomUUID } from "node:crypto";
import {
  type CreateOptions,
  type CreateOutcome,
  type DeleteOptions,
  type HoldOptions,
  type LookupOptions,
  type PublishOptions,
  type RelayListener,
  type RelayMember,
  type RelayMessage,
  type SessionLookup,
  type SessionRecord,
  type SessionRelay,
  type SessionStore,
  type SessionStoreListener,
  StoreClosedError,
  type StreamEvent,
  type SweepResult,
  type TouchOptions,
} from "@mcp-sessions/session-core";
import { ownerMatches } from "@mcp-sessions/session-core/store";

/** Records handed out per page of `list`, small enough that 300 sessions take several pages. */
const PAGE_SIZE = 64;

/**
 * The contract in its plainest form, to check the suite itself: every operation is a linear
 * scan of a Map, so its correctness is easy to see. Signals are delivered on a later macrotask,
 * as a networked store would, so the suite is proven not to assume synchronous delivery.
 * Not for production: sweeps and counts cost O(n).
 */
export class ReferenceSessionStore implements SessionStore {
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #listeners = new Set<SessionStoreListener>();
  #closed = false;
  readonly shared = false;
  /** Not part of the store contract: the relay whose logs end with this store's sessions. */
  readonly relay = new ReferenceRelay((id) => this.#sessions.has(id));

  async create(record: SessionRecord, options: CreateOptions = {}): Promise<CreateOutcome> {
    this.#assertOpen();
    if (this.#sessions.has(record.id)) return "exists";
    const { maxSessions } = options;
    if (maxSessions !== undefined && this.#liveCount(Date.now()) >= maxSessions) return "full";
    this.#sessions.set(record.id, structuredClone(record));
    return "created";
  }

  async get(id: string, options: LookupOptions): Promise<SessionLookup> {
    this.#assertOpen();
    return this.#lookup(id, options);
  }

  async touch(id: string, options: TouchOptions): Promise<SessionLookup> {
    this.#assertOpen();
    const lookup = this.#lookup(id, options);
    if (lookup.status !== "found") return lookup;
    const { now, ttl, maxLifetime } = options;
    const session: SessionRecord = {
      ...lookup.session,
      lastAccessedAt: now,
      expiresAt: Math.min(now + ttl, lookup.session.createdAt + maxLifetime),
    };
    this.#sessions.set(id, session);
    return { status: "found", session: structuredClone(session) };
  }

  async delete(id: string, options: DeleteOptions): Promise<boolean> {
    this.#assertOpen();
    const session = this.#sessions.get(id);
    // Past its deadline the session has expired: the sweep claims it, not a delete.
    if (session === undefined || session.expiresAt <= options.now) return false;
    this.#sessions.delete(id);
    this.relay.forget(id);
    this.#deliver((listener) => listener.ended(id, "destroyed"));
    return true;
  }

  async count(now: number): Promise<number> {
    this.#assertOpen();
    return this.#liveCount(now);
  }

  async *list(now: number): AsyncIterable<SessionRecord> {
    this.#assertOpen();
    const live = [...this.#sessions.values()].filter((session) => session.expiresAt > now);
    for (let start = 0; start < live.length; start += PAGE_SIZE) {
      // A page boundary is where a networked store would await its next round trip.
      await Promise.resolve();
      for (const session of live.slice(start, start + PAGE_SIZE)) yield structuredClone(session);
    }
  }

  async clear(): Promise<number> {
    this.#assertOpen();
    const removed = this.#sessions.size;
    for (const id of this.#sessions.keys()) this.relay.forget(id);
    this.#sessions.clear();
    return removed;
  }

  async sweep(now: number): Promise<SweepResult> {
    this.#assertOpen();
    const due = [...this.#sessions.values()].filter((session) => session.expiresAt <= now);
    for (const { id } of due) {
      this.#sessions.delete(id);
      this.relay.forget(id);
      this.#deliver((listener) => {
        listener.expired(id);
        listener.ended(id, "expired");
      });
    }
    return { claimed: due.length };
  }

  subscribe(listener: SessionStoreListener): () => void {
    // Wrapped, so that one listener object subscribed twice is two subscriptions.
    const subscription: SessionStoreListener = {
      expired: (id) => listener.expired(id),
      ended: (id, reason) => listener.ended(id, reason),
    };
    this.#listeners.add(subscription);
    return () => {
      this.#listeners.delete(subscription);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    this.relay.close();
  }

  #lookup(id: string, { now, owner }: LookupOptions): SessionLookup {
    const session = this.#sessions.get(id);
    if (session === undefined || session.expiresAt <= now) return { status: "missing" };
    if (!ownerMatches(session.owner, owner)) return { status: "foreign" };
    return { status: "found", session: structuredClone(session) };
  }

  #liveCount(now: number): number {
    let live = 0;
    for (const session of this.#sessions.values()) if (session.expiresAt > now) live += 1;
    return live;
  }

  #deliver(signal: (listener: SessionStoreListener) => void): void {
    const listeners = [...this.#listeners];
    setImmediate(() => {
      for (const listener of listeners) {
        // Only those still subscribed when the signal goes out receive it.
        if (this.#listeners.has(listener)) signal(listener);
      }
    });
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError("ReferenceSessionStore");
  }
}

interface LoggedEvent {
  readonly sessionId: string;
  readonly streamId: string;
  readonly position: string;
  readonly message: RelayMessage;
}

/**
 * The relay in its plainest form: one array of every stored event and one list of holds, both
 * scanned linearly. Deliveries go out on a later macrotask, in order, as a networked relay's
 * would. It never trims: a contract test of trimming would need a store option.
 */
class ReferenceRelay implements SessionRelay {
  readonly shared = false;
  readonly #isLive: (sessionId: string) => boolean;
  readonly #listeners = new Map<string, RelayListener>();
  #log: LoggedEvent[] = [];
  #holds: { sessionId: string; streamId: string; memberId: string }[] = [];
  #lastPosition = 0;

  constructor(isLive: (sessionId: string) => boolean) {
    this.#isLive = isLive;
  }

  join(listener: RelayListener): RelayMember {
    const id = randomUUID();
    this.#listeners.set(id, listener);
    return {
      id,
      ready: Promise.resolve(),
      send: async (to, sessionId, message) => {
        const target = this.#listeners.get(to);
        if (target === undefined) return false;
        setImmediate(() => target.message(sessionId, message));
        return true;
      },
      broadcast: async (sessionId, message) => {
        for (const [memberId, target] of this.#listeners) {
          if (memberId !== id) setImmediate(() => target.message(sessionId, message));
        }
      },
      publish: async (sessionId, streamId, message, options) =>
        this.#publish(sessionId, streamId, message, options),
      hold: async (sessionId, streamId, options) => this.#hold(id, sessionId, streamId, options),
      release: async (sessionId, streamId) => {
        this.#holds = this.#holds.filter(
          (hold) =>
            !(hold.sessionId === sessionId && hold.streamId === streamId && hold.memberId === id),
        );
      },
      leave: async () => {
        this.#listeners.delete(id);
      },
    };
  }

  /** Drops a session's events and holds: the store calls it when the session ends. */
  forget(sessionId: string): void {
    this.#log = this.#log.filter((event) => event.sessionId !== sessionId);
    this.#holds = this.#holds.filter((hold) => hold.sessionId !== sessionId);
  }

  close(): void {
    this.#listeners.clear();
    this.#log = [];
    this.#holds = [];
  }

  #publish(
    sessionId: string,
    streamId: string,
    message: RelayMessage,
    options: PublishOptions,
  ): string | undefined {
    if (!this.#isLive(sessionId)) return undefined;
    let position: string | undefined;
    if (options.store) {
      position = `p${++this.#lastPosition}`;
      this.#log.push({ sessionId, streamId, position, message });
    }
    const holder = this.#holds.find(
      (hold) => hold.sessionId === sessionId && hold.streamId === streamId,
    );
    const target = holder === undefined ? undefined : this.#listeners.get(holder.memberId);
    const event: StreamEvent = position === undefined ? { message } : { position, message };
    if (target !== undefined) setImmediate(() => target.event(sessionId, streamId, event));
    return position;
  }

  #hold(
    memberId: string,
    sessionId: string,
    streamId: string,
    options: HoldOptions = {},
  ): StreamEvent[] | undefined {
    if (!this.#isLive(sessionId)) return undefined;
    this.#holds = this.#holds.filter(
      (hold) => !(hold.sessionId === sessionId && hold.streamId === streamId),
    );
    this.#holds.push({ sessionId, streamId, memberId });
    if (options.after === undefined) return [];
    const sessionLog = this.#log.filter((event) => event.sessionId === sessionId);
    const start = sessionLog.findIndex((event) => event.position === options.after);
    if (start === -1) return undefined;
    return sessionLog
      .slice(start + 1)
      .filter((event) => event.streamId === streamId)
      .map(({ position, message }) => ({ position, message }));
  }
}
