import {
  type CreateOptions,
  type CreateOutcome,
  type DeleteOptions,
  type EndReason,
  type LookupOptions,
  type SessionLookup,
  type SessionRecord,
  type SessionStore,
  type SessionStoreListener,
  StoreClosedError,
  type SweepResult,
  type TouchOptions,
} from "@mcp-sessions/session-core";
import { ownerMatches } from "@mcp-sessions/session-core/store";

/**
 * A session store as a user would write one for a single process, on a plain `Map`: no relay,
 * no index, a sweep that scans. It stands for any third-party store (SQL, DynamoDB) that keeps
 * sessions and nothing else.
 */
export class MapSessionStore implements SessionStore {
  readonly shared = false;
  readonly #records = new Map<string, SessionRecord>();
  readonly #listeners = new Set<SessionStoreListener>();
  #closed = false;

  async create(record: SessionRecord, { maxSessions }: CreateOptions = {}): Promise<CreateOutcome> {
    this.#open();
    if (this.#records.has(record.id)) return "exists";
    // Counted and inserted with no await between: concurrent creates cannot overshoot.
    if (maxSessions !== undefined && this.#live(record.createdAt) >= maxSessions) return "full";
    this.#records.set(record.id, structuredClone(record));
    return "created";
  }

  async get(id: string, options: LookupOptions): Promise<SessionLookup> {
    this.#open();
    const record = this.#records.get(id);
    if (!record || record.expiresAt <= options.now) return { status: "missing" };
    if (!ownerMatches(record.owner, options.owner)) return { status: "foreign" };
    return { status: "found", session: structuredClone(record) };
  }

  async touch(id: string, options: TouchOptions): Promise<SessionLookup> {
    const found = await this.get(id, options);
    if (found.status !== "found") return found;
    const { createdAt } = found.session;
    const expiresAt = Math.min(options.now + options.ttl, createdAt + options.maxLifetime);
    const session = { ...found.session, lastAccessedAt: options.now, expiresAt };
    this.#records.set(id, session);
    return { status: "found", session: structuredClone(session) };
  }

  async delete(id: string, { now }: DeleteOptions): Promise<boolean> {
    this.#open();
    const record = this.#records.get(id);
    if (!record || record.expiresAt <= now) return false;
    this.#records.delete(id);
    this.#signal(id, "destroyed");
    return true;
  }

  async count(now: number): Promise<number> {
    this.#open();
    return this.#live(now);
  }

  async *list(now: number): AsyncIterable<SessionRecord> {
    this.#open();
    for (const record of [...this.#records.values()]) {
      if (record.expiresAt > now) yield structuredClone(record);
    }
  }

  async clear(): Promise<number> {
    this.#open();
    const cleared = this.#records.size;
    this.#records.clear();
    return cleared;
  }

  async sweep(now: number): Promise<SweepResult> {
    this.#open();
    const due = [...this.#records.values()].filter((record) => record.expiresAt <= now);
    for (const { id } of due) {
      this.#records.delete(id);
      this.#signal(id, "expired");
    }
    return { claimed: due.length };
  }

  subscribe(listener: SessionStoreListener): () => void {
    const own = { expired: listener.expired.bind(listener), ended: listener.ended.bind(listener) };
    this.#listeners.add(own);
    return () => this.#listeners.delete(own);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
  }

  /** Later, as a networked store's signal would arrive, to whoever is subscribed by then. */
  #signal(id: string, reason: EndReason): void {
    setImmediate(() => {
      for (const listener of this.#listeners) {
        if (reason === "expired") listener.expired(id);
        listener.ended(id, reason);
      }
    });
  }

  #live(now: number): number {
    return [...this.#records.values()].filter((record) => record.expiresAt > now).length;
  }

  #open(): void {
    if (this.#closed) throw new StoreClosedError("MapSessionStore");
  }
}
