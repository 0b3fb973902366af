import type { EndReason, SessionRecord } from "./session.js";

/** What `SessionStore.create` did. `"full"` only when `maxSessions` was given and reached. */
export type CreateOutcome = "created" | "exists" | "full";

/**
 * What `get` and `touch` found. `"foreign"` means the session is live but `owner` did not match:
 * the manager logs it and then treats it exactly as `"missing"`.
 */
export type SessionLookup =
  | { readonly status: "found"; readonly session: SessionRecord }
  | { readonly status: "missing" }
  | { readonly status: "foreign" };

export interface CreateOptions {
  /** Refuse with `"full"` when this many live sessions exist. Absent means no limit. */
  readonly maxSessions?: number;
}

export interface LookupOptions {
  /** The caller's clock, ms. A session with `expiresAt <= now` is missing. */
  readonly now: number;
  /** When given, a session whose owner differs (or has none) is `"foreign"`. */
  readonly owner?: string;
}

export interface DeleteOptions {
  /** The caller's clock, ms. A session with `expiresAt <= now` has expired and is not deleted. */
  readonly now: number;
}

export interface TouchOptions extends LookupOptions {
  /** Idle timeout in ms: the new deadline is `min(now + ttl, createdAt + maxLifetime)`. */
  readonly ttl: number;
  /** Absolute lifetime in ms from `createdAt`. */
  readonly maxLifetime: number;
}

export interface SweepResult {
  /** How many expiry claims this call won (each was delivered to `expired` listeners). */
  readonly claimed: number;
  /**
   * The earliest deadline the store still holds, when it knows it cheaply; the caller may sleep
   * until then. Absent means "unknown": sweep again after the usual interval.
   */
  readonly nextDueAt?: number;
}

/**
 * Signals a store delivers to its subscribers.
 *
 * `expired` is a claim: across every store instance sharing the same backend, exactly one
 * receives it for each session whose deadline passed, after the record is gone. That instance
 * runs the expiration handler.
 *
 * `ended` tells every instance that a session is gone, however it went, so each can release
 * what it holds locally. It may arrive more than once; treat it as idempotent.
 */
export interface SessionStoreListener {
  expired(id: string): void;
  ended(id: string, reason: EndReason): void;
}

/**
 * The contract every store implements; `describeSessionStore` in `@mcp-sessions/session-testing`
 * checks it. It holds keyed, expiring, owner-bound records and nothing else: a SQL or DynamoDB
 * table can keep it. Messaging between instances is a separate contract, `SessionRelay`.
 *
 * Every method is async and safe under concurrent calls. A backend failure rejects with
 * `StoreUnavailableError`; it never reads as a missing session.
 */
export interface SessionStore {
  /**
   * Whether other processes see this store's records: `true` for a shared backend (Redis, SQL),
   * `false` for this process's memory. A fleet on a shared store needs a shared relay as well.
   */
  readonly shared: boolean;
  /** Inserts `record` unless its id exists (live or not yet swept). Never overwrites. */
  create(record: SessionRecord, options?: CreateOptions): Promise<CreateOutcome>;
  /** Reads a live session without changing it. */
  get(id: string, options: LookupOptions): Promise<SessionLookup>;
  /**
   * Sets `lastAccessedAt = now` and moves the deadline, in one atomic step, and returns the
   * updated record. A missing, expired or foreign session is left as it is: touch never revives.
   */
  touch(id: string, options: TouchOptions): Promise<SessionLookup>;
  /**
   * Removes a live session; `ended(id, "destroyed")` follows on every instance. A session already
   * past its deadline is left alone and `false` comes back: it expired, so the sweep must still
   * claim it and run the expiration handler.
   */
  delete(id: string, options: DeleteOptions): Promise<boolean>;
  /** Live sessions at `now`. */
  count(now: number): Promise<number>;
  /** Every live session at `now`, in no particular order, fetched page by page. */
  list(now: number): AsyncIterable<SessionRecord>;
  /** Removes every session of this store (its own prefix or instance only); returns how many. */
  clear(): Promise<number>;
  /** Claims sessions due at `now` and delivers each claim to `expired` listeners. */
  sweep(now: number): Promise<SweepResult>;
  /** Starts delivering signals to `listener`; returns the function that stops it. */
  subscribe(listener: SessionStoreListener): () => void;
  /** Releases every timer and connection the store owns. Idempotent. */
  close(): Promise<void>;
}
