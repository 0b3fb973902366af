import { Discards } from "./discards.js";
import {
  isSessionError,
  SessionExistsError,
  SessionLimitReachedError,
  StoreClosedError,
} from "./errors.js";
import { runGuarded } from "./guard.js";
import { log } from "./logger.js";
import { validateMetadata } from "./metadata.js";
import {
  type ResolvedSessionManagerOptions,
  resolveOptions,
  type SessionManagerOptions,
} from "./options.js";
import type { EndReason, SessionMetadata, SessionRecord } from "./session.js";
import { assertValidSessionId } from "./session-id.js";
import type { CreateOutcome, SessionLookup } from "./session-store.js";
import { SweepSchedule } from "./sweep-schedule.js";
import { TypedEvents } from "./typed-events.js";

/** Payloads of the manager's events. */
export interface SessionManagerEvents {
  /** A session was created or registered on this instance. */
  created: { readonly session: SessionRecord };
  /** This instance won the expiry claim for a session and ran the expiration handler. */
  expired: { readonly id: string };
  /** `cleanup` on this instance removed a session. */
  destroyed: { readonly id: string };
  /** A session ended anywhere in the fleet, expired or destroyed: release what you hold for it. */
  ended: { readonly id: string; readonly reason: EndReason };
}

export type SessionManagerEventName = keyof SessionManagerEvents;

/** Runs once per expired session across every manager sharing the store. */
export type ExpirationHandler = (sessionId: string) => void | Promise<void>;

export interface OwnerOptions {
  /** The authenticated user, from the server's own authentication. Never from the client. */
  readonly owner?: string;
}

const LOGGER = "session-core/manager";

/**
 * Creates, finds, touches and expires sessions in a `SessionStore`.
 *
 * Expired means gone: once `now >= expiresAt`, `get` and `touch` find nothing, even before a
 * sweep. The expiration handler runs exactly once per expired session across every manager on
 * the same store, after the record is gone. A session bound to an owner is invisible to
 * everybody else.
 *
 * @example
 * const store = new MemorySessionStore();
 * const sessions = new SessionManager({ store, ttl: 60_000 });
 * sessions.setExpirationHandler((id) => console.log("expired", id));
 * const session = await sessions.create({ plan: "pro" }, { owner: "user-42" });
 * await sessions.touch(session.id, { owner: "user-42" }); // the session, with a new deadline
 * await sessions.touch(session.id, { owner: "user-7" }); // undefined: not yours
 * await sessions.close();
 * await store.close(); // what you pass in, you close
 */
export class SessionManager {
  readonly #options: ResolvedSessionManagerOptions;
  readonly #events: TypedEvents<SessionManagerEvents>;
  readonly #unsubscribe: () => void;
  /** Handler runs and sweeps still settling; `close()` waits for them. */
  readonly #inFlight = new Set<Promise<void>>();
  readonly #discards: Discards;
  readonly #schedule: SweepSchedule;
  #expirationHandler: ExpirationHandler | undefined;
  #closed: Promise<void> | undefined;

  /** @throws TypeError naming the first invalid option */
  constructor(options: SessionManagerOptions) {
    this.#options = resolveOptions(options);
    this.#events = new TypedEvents(this.#options.logger, LOGGER);
    this.#discards = new Discards({
      store: this.#options.store,
      logger: this.#options.logger,
      loggerName: LOGGER,
    });
    this.#schedule = new SweepSchedule({
      store: this.#options.store,
      clock: this.#options.clock,
      cleanupInterval: this.#options.cleanupInterval,
      logger: this.#options.logger,
      loggerName: LOGGER,
      track: (work) => this.#track(work),
      afterSweep: () =>
        this.#discards.prune(this.#options.clock.now(), 2 * this.#options.cleanupInterval),
    });
    this.#unsubscribe = this.#options.store.subscribe({
      expired: (id) => this.#track(this.#runExpiration(id)),
      ended: (id, reason) => this.#track(this.#events.emit("ended", { id, reason })),
    });
    if (this.#options.enabled) this.startTTLCleanup();
  }

  /** The idle timeout in ms, as resolved from the options: integrations pace keep-alives by it. */
  get ttl(): number {
    return this.#options.ttl;
  }

  /**
   * The longest wait between expiry sweeps in ms, as resolved from the options: integrations
   * pace their own checks against the store by it.
   */
  get cleanupInterval(): number {
    return this.#options.cleanupInterval;
  }

  /** Whether other processes see this manager's sessions (`SessionStore.shared`). */
  get shared(): boolean {
    return this.#options.store.shared;
  }

  /**
   * Creates a session with an id from `idGenerator`.
   * @throws InvalidMetadataError (`INVALID_METADATA`), SessionLimitReachedError
   *   (`SESSION_LIMIT_REACHED`), StoreUnavailableError (`STORE_UNAVAILABLE`)
   */
  async create(metadata?: SessionMetadata, options: OwnerOptions = {}): Promise<SessionRecord> {
    this.#assertOpen();
    return this.#insert(this.#options.idGenerator(), metadata, options.owner);
  }

  /**
   * Stores a session under an id made elsewhere, such as by the MCP SDK's transport.
   * @throws InvalidSessionIdError (`INVALID_SESSION_ID`), SessionExistsError (`SESSION_EXISTS`),
   *   InvalidMetadataError, SessionLimitReachedError, StoreUnavailableError
   */
  async register(
    id: string,
    metadata?: SessionMetadata,
    options: OwnerOptions = {},
  ): Promise<SessionRecord> {
    return this.#insert(id, metadata, options.owner);
  }

  /**
   * The live session, or `undefined` when it is unknown, expired, or bound to another owner.
   * Does not move the deadline.
   * @throws InvalidSessionIdError, StoreUnavailableError
   */
  async get(id: string, options: OwnerOptions = {}): Promise<SessionRecord | undefined> {
    this.#assertOpen();
    assertValidSessionId(id);
    const lookup = await this.#options.store.get(id, this.#lookupOptions(options.owner));
    return this.#found(lookup, "get");
  }

  /**
   * Marks the session used now and moves its deadline; returns the updated session, or
   * `undefined` when it is unknown, expired, or bound to another owner. Never revives.
   * @throws InvalidSessionIdError, StoreUnavailableError
   */
  async touch(id: string, options: OwnerOptions = {}): Promise<SessionRecord | undefined> {
    this.#assertOpen();
    assertValidSessionId(id);
    const lookup = await this.#options.store.touch(id, {
      ...this.#lookupOptions(options.owner),
      ttl: this.#options.ttl,
      maxLifetime: this.#options.maxLifetime,
    });
    return this.#found(lookup, "touch");
  }

  /**
   * Removes a session on purpose. Emits `destroyed` here and `ended` on every instance; the
   * expiration handler does not run. Returns whether a live session was removed: one already
   * past its deadline has expired, so it is left for the sweep, which runs the handler.
   * @throws InvalidSessionIdError, StoreUnavailableError
   */
  async cleanup(id: string): Promise<boolean> {
    this.#assertOpen();
    assertValidSessionId(id);
    const removed = await this.#options.store.delete(id, { now: this.#options.clock.now() });
    if (removed) await this.#events.emit("destroyed", { id });
    return removed;
  }

  /**
   * Removes a session that no client was ever given, such as one whose `initialize` the server
   * refused after creating it: now, or once the store answers again, retried with backoff until
   * `close()`. It emits no `destroyed`, and no expiration handler runs for it on this instance.
   * Pass the record `create` or `register` returned: a newer session under the same id is left
   * alone. Resolves once the store answered, or `close()` stopped the retries; never rejects.
   */
  discard(session: SessionRecord): Promise<void> {
    return this.#closed ? Promise.resolve() : this.#discards.add(session);
  }

  /** Every live session. For large stores, prefer `store.list(now)` and iterate. */
  async list(): Promise<SessionRecord[]> {
    this.#assertOpen();
    const sessions: SessionRecord[] = [];
    for await (const session of this.#options.store.list(this.#options.clock.now())) {
      sessions.push(session);
    }
    return sessions;
  }

  /** How many sessions are live now. */
  async getActiveSessionCount(): Promise<number> {
    this.#assertOpen();
    return this.#options.store.count(this.#options.clock.now());
  }

  /** Removes every session in the store; returns how many. No expiration handler runs. */
  async clearAll(): Promise<number> {
    this.#assertOpen();
    return this.#options.store.clear();
  }

  /**
   * Sets the function that runs once per expired session, fleet-wide, after the record is gone.
   * A throw or rejection is logged and does not affect other sessions. Pass `undefined` to remove.
   */
  setExpirationHandler(handler: ExpirationHandler | undefined): void {
    this.#expirationHandler = handler;
  }

  /** Starts sweeping for expired sessions. The constructor calls it when `enabled` is true. */
  startTTLCleanup(): void {
    this.#assertOpen();
    if (this.#options.enabled) this.#schedule.start();
  }

  /**
   * Sweeps at once, at the clock's now, whatever the timer and `enabled` say: claims what is due
   * and runs the expiration handler of each claim this instance won. Resolves, once those
   * handlers have run, with how many it won. With an injected `clock`, this is how a test makes
   * time pass for expiry: the timer still waits in real ms.
   * @throws StoreUnavailableError (`STORE_UNAVAILABLE`), StoreClosedError (`STORE_CLOSED`)
   */
  async sweepNow(): Promise<number> {
    this.#assertOpen();
    const { claimed } = await this.#schedule.sweepOnce();
    // Claims reach the handler through the store's subscription, tracked as they arrive.
    await Promise.all(this.#inFlight);
    return claimed;
  }

  /** Stops sweeping on this instance. Sessions still read as missing once their deadline passes. */
  stopTTLCleanup(): void {
    this.#schedule.stop();
  }

  on<K extends SessionManagerEventName>(
    name: K,
    listener: (event: SessionManagerEvents[K]) => unknown,
  ): () => void {
    return this.#events.on(name, listener);
  }

  off<K extends SessionManagerEventName>(
    name: K,
    listener: (event: SessionManagerEvents[K]) => unknown,
  ): void {
    this.#events.off(name, listener);
  }

  /**
   * Stops sweeping, then waits for running sweeps, handlers and listeners. The store stays open:
   * whoever made it closes it, after the managers on it. Idempotent; later calls to other methods
   * throw `STORE_CLOSED`.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.stopTTLCleanup();
      await this.#discards.close();
      this.#unsubscribe();
      while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
      this.#events.removeAll();
    })();
    return this.#closed;
  }

  async #insert(id: string, metadata: SessionMetadata | undefined, owner: string | undefined) {
    this.#assertOpen();
    assertValidSessionId(id);
    const validated =
      metadata === undefined
        ? undefined
        : validateMetadata(metadata, this.#options.maxMetadataBytes);
    const now = this.#options.clock.now();
    const session: SessionRecord = {
      id,
      createdAt: now,
      lastAccessedAt: now,
      expiresAt: now + Math.min(this.#options.ttl, this.#options.maxLifetime),
      ...(owner === undefined ? {} : { owner }),
      ...(validated === undefined ? {} : { metadata: validated.metadata }),
    };
    const maxSessions = this.#options.maxSessions;
    let outcome: CreateOutcome;
    try {
      outcome = await this.#options.store.create(
        session,
        maxSessions === undefined ? {} : { maxSessions },
      );
    } catch (error) {
      // The create may still reach the store after this failure; nobody got the session, so
      // whatever lands is removed once the store answers again.
      if (isSessionError(error) && error.code === "STORE_UNAVAILABLE") {
        void this.#discards.add(session);
      }
      throw error;
    }
    if (outcome === "exists") throw new SessionExistsError();
    if (outcome === "full") throw new SessionLimitReachedError(maxSessions ?? 0);
    this.#schedule.sweepBy(session.expiresAt);
    await this.#events.emit("created", { session });
    return session;
  }

  #lookupOptions(owner: string | undefined) {
    const now = this.#options.clock.now();
    return owner === undefined ? { now } : { now, owner };
  }

  #found(lookup: SessionLookup, operation: "get" | "touch"): SessionRecord | undefined {
    if (lookup.status === "found") return lookup.session;
    if (lookup.status === "foreign") {
      // Owners and ids stay out of the log: either could help an attacker.
      log(this.#options.logger, {
        level: "warning",
        logger: LOGGER,
        data: { message: `${operation} refused: the session belongs to another owner` },
      });
    }
    return undefined;
  }

  async #runExpiration(id: string): Promise<void> {
    // Nobody ever used a discarded session, so there is nothing for a handler to clean up.
    if (this.#discards.consumeClaim(id)) return;
    const handler = this.#expirationHandler;
    if (handler) {
      await runGuarded(this.#options.logger, LOGGER, "Expiration handler", () => handler(id));
    }
    await this.#events.emit("expired", { id });
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError("SessionManager");
  }
}
