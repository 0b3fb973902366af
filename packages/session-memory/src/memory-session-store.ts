import {
  type CreateOptions,
  type CreateOutcome,
  type DeleteOptions,
  defaultSendLog,
  type EndReason,
  type Logger,
  type LookupOptions,
  type SendLog,
  type SessionLookup,
  type SessionRecord,
  type SessionStore,
  type SessionStoreListener,
  StoreClosedError,
  type SweepResult,
  type TouchOptions,
} from "@mcp-sessions/session-core";
import { describeError, log, ownerMatches, toSendLog } from "@mcp-sessions/session-core/store";
import { type DueNode, DueQueue } from "./due-queue.js";
import { DEFAULT_MAX_EVENTS_PER_SESSION, MemoryRelay } from "./memory-relay.js";

export interface MemorySessionStoreOptions {
  /**
   * Receives a log entry when a subscriber or relay listener throws: a function of
   * `{ level, logger, data }`, or an object with a `sendLog()` method, called on the object.
   * @default warnings and errors as JSON lines on stderr
   */
  logger?: Logger;
  /**
   * Events kept per session in the relay's log for replay from a position; the oldest go first.
   * @default 1000
   */
  maxEventsPerSession?: number;
}

interface Entry {
  record: SessionRecord;
  /** The queued node that stands for this session; any other node with its id is stale. */
  node: DueNode;
}

const LOGGER = "session-memory/store";
/** Below this many nodes, stale ones cost too little to be worth a rebuild. */
const COMPACT_MIN_NODES = 1024;
const MISSING: SessionLookup = Object.freeze({ status: "missing" });
const FOREIGN: SessionLookup = Object.freeze({ status: "foreign" });

/**
 * Keeps sessions in this process: the store for a single instance.
 *
 * Touch is O(1) amortised. A sweep never walks live sessions: it takes due deadlines off a
 * `DueQueue`. The store has no timers of its own; `sweep` reports the next deadline so the
 * manager arms one timer for it.
 *
 * @example
 * const sessions = new SessionManager({ store: new MemorySessionStore() });
 */
export class MemorySessionStore implements SessionStore {
  readonly #entries = new Map<string, Entry>();
  readonly #due = new DueQueue();
  readonly #listeners = new Set<SessionStoreListener>();
  readonly #sendLog: SendLog;
  #closed = false;
  /** Its sessions live in this process only. */
  readonly shared = false;
  /**
   * Relays between the members of this process that serve the store's sessions: pass it next to
   * the store (session-mcp's `relay` option). Each session's log and holds end with the session.
   */
  readonly relay: MemoryRelay;

  /** @throws TypeError when `logger` or `maxEventsPerSession` is invalid */
  constructor(options: MemorySessionStoreOptions = {}) {
    const { maxEventsPerSession = DEFAULT_MAX_EVENTS_PER_SESSION } = options;
    const logger = toSendLog(options.logger === undefined ? defaultSendLog : options.logger);
    if (!Number.isSafeInteger(maxEventsPerSession) || maxEventsPerSession < 1) {
      throw new TypeError(
        `Expected \`maxEventsPerSession\` to be a positive integer, got \`${String(maxEventsPerSession)}\` (${typeof maxEventsPerSession})`,
      );
    }
    this.#sendLog = logger;
    this.relay = new MemoryRelay({
      isLive: (id) => this.#entries.has(id),
      maxEventsPerSession,
      logger,
    });
  }

  async create(record: SessionRecord, options: CreateOptions = {}): Promise<CreateOutcome> {
    this.#assertOpen();
    if (this.#entries.has(record.id)) return "exists";
    if (
      options.maxSessions !== undefined &&
      this.#liveCount(record.createdAt) >= options.maxSessions
    ) {
      return "full";
    }
    const node = { deadline: record.expiresAt, id: record.id };
    if (record.metadata !== undefined) deepFreeze(record.metadata);
    this.#entries.set(record.id, {
      record: frozenRecord(record, record.lastAccessedAt, record.expiresAt),
      node,
    });
    this.#due.push(node);
    return "created";
  }

  async get(id: string, options: LookupOptions): Promise<SessionLookup> {
    this.#assertOpen();
    return this.#lookup(id, options)?.lookup ?? MISSING;
  }

  async touch(id: string, options: TouchOptions): Promise<SessionLookup> {
    this.#assertOpen();
    const found = this.#lookup(id, options);
    if (found?.lookup.status !== "found") return found?.lookup ?? MISSING;
    const { entry } = found;
    const previous = entry.record;
    const record = frozenRecord(
      previous,
      options.now,
      Math.min(options.now + options.ttl, previous.createdAt + options.maxLifetime),
    );
    entry.record = record;
    // A later deadline leaves the queue alone (the sweep re-queues the node when it comes due);
    // only an earlier one needs a node of its own.
    if (record.expiresAt < entry.node.deadline) {
      entry.node = { deadline: record.expiresAt, id };
      this.#due.push(entry.node);
    }
    return { status: "found", session: record };
  }

  async delete(id: string, options: DeleteOptions): Promise<boolean> {
    this.#assertOpen();
    const entry = this.#entries.get(id);
    // Past its deadline the session has expired: leave it for the sweep, which runs the handler.
    if (!entry || entry.record.expiresAt <= options.now) return false;
    this.#entries.delete(id);
    this.relay.forget(id);
    this.#compactIfStale();
    this.#signal("ended", id, "destroyed");
    return true;
  }

  async count(now: number): Promise<number> {
    this.#assertOpen();
    return this.#liveCount(now);
  }

  async *list(now: number): AsyncIterable<SessionRecord> {
    this.#assertOpen();
    // Map iteration tolerates changes while it runs: removed entries are not visited.
    for (const { record } of this.#entries.values()) {
      if (record.expiresAt > now) yield record;
    }
  }

  async clear(): Promise<number> {
    this.#assertOpen();
    const ids = [...this.#entries.keys()];
    this.#entries.clear();
    this.#due.clear();
    for (const id of ids) {
      this.relay.forget(id);
      this.#signal("ended", id, "destroyed");
    }
    return ids.length;
  }

  async sweep(now: number): Promise<SweepResult> {
    this.#assertOpen();
    let claimed = 0;
    for (let node = this.#due.peek(); node && node.deadline <= now; node = this.#due.peek()) {
      this.#due.pop();
      const entry = this.#entries.get(node.id);
      if (entry?.node !== node) continue;
      if (entry.record.expiresAt <= now) {
        this.#entries.delete(node.id);
        this.relay.forget(node.id);
        claimed++;
        this.#signal("expired", node.id);
        this.#signal("ended", node.id, "expired");
      } else {
        entry.node = { deadline: entry.record.expiresAt, id: node.id };
        this.#due.push(entry.node);
      }
    }
    const next = this.#due.peek();
    return next === undefined ? { claimed } : { claimed, nextDueAt: next.deadline };
  }

  subscribe(listener: SessionStoreListener): () => void {
    this.#assertOpen();
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    this.#entries.clear();
    this.#due.clear();
    this.relay.clear();
  }

  #lookup(id: string, options: LookupOptions): { entry: Entry; lookup: SessionLookup } | undefined {
    const entry = this.#entries.get(id);
    if (!entry || entry.record.expiresAt <= options.now) return undefined;
    if (!ownerMatches(entry.record.owner, options.owner)) return { entry, lookup: FOREIGN };
    return { entry, lookup: { status: "found", session: entry.record } };
  }

  /** Sessions whose deadline passed stay in the map until swept; they are not live. */
  #liveCount(now: number): number {
    let dueCount = 0;
    this.#due.forEachDue(now, (node) => {
      const entry = this.#entries.get(node.id);
      if (entry?.node === node && entry.record.expiresAt <= now) dueCount++;
    });
    return this.#entries.size - dueCount;
  }

  /**
   * Deleted sessions leave their nodes in the queue until the deadline. Under a delete-heavy load
   * that could be most of it, so rebuild from the live entries once stale nodes outnumber them.
   */
  #compactIfStale(): void {
    if (this.#due.size < COMPACT_MIN_NODES || this.#due.size < 2 * this.#entries.size) return;
    const nodes: DueNode[] = [];
    for (const entry of this.#entries.values()) nodes.push(entry.node);
    this.#due.rebuild(nodes);
  }

  #signal(kind: "expired", id: string): void;
  #signal(kind: "ended", id: string, reason: EndReason): void;
  #signal(kind: keyof SessionStoreListener, id: string, reason?: EndReason): void {
    for (const listener of this.#listeners) {
      try {
        if (kind === "expired") listener.expired(id);
        else listener.ended(id, reason as EndReason);
      } catch (error) {
        log(this.#sendLog, {
          level: "error",
          logger: LOGGER,
          data: { message: `Subscriber threw on "${kind}"`, error: describeError(error) },
        });
      }
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new StoreClosedError("MemorySessionStore");
  }
}

/**
 * Stored records are shared with callers, so nobody may change them in place. They are built as
 * literals, not spreads: on Node 20 a frozen spread copy takes about three times the heap.
 */
function frozenRecord(
  { id, createdAt, owner, metadata }: SessionRecord,
  lastAccessedAt: number,
  expiresAt: number,
): SessionRecord {
  if (owner === undefined) {
    return Object.freeze(
      metadata === undefined
        ? { id, createdAt, lastAccessedAt, expiresAt }
        : { id, createdAt, lastAccessedAt, expiresAt, metadata },
    );
  }
  return Object.freeze(
    metadata === undefined
      ? { id, createdAt, lastAccessedAt, expiresAt, owner }
      : { id, createdAt, lastAccessedAt, expiresAt, owner, metadata },
  );
}

function deepFreeze(value: object): void {
  for (const nested of Object.values(value)) {
    if (typeof nested === "object" && nested !== null) deepFreeze(nested);
  }
  Object.freeze(value);
}
