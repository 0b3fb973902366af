import { AsyncLocalStorage } from "node:async_hooks";
import type { SessionManager } from "@mcp-sessions/session-core";

/** Options of {@link SessionsPerAddress}. */
export interface SessionsPerAddressOptions {
  /** The manager whose sessions are counted: those it makes while an initialize is served. */
  readonly sessions: SessionManager;
  /** Most live sessions one address may hold. Minimum: `1`. */
  readonly limit: number;
  /**
   * Least time between two checks of one address's sessions against the store, in ms: the
   * manager's `cleanupInterval` suits, as the time a missed `ended` may go unnoticed. Minimum: `0`.
   */
  readonly recheckIntervalMs: number;
}

/** An initialize being served: the address it came from. */
interface Attempt {
  readonly address: string;
}

/** A live session made here: whom it is counted against, and its owner for store lookups. */
interface Made {
  readonly address: string;
  readonly owner: string | undefined;
}

/**
 * Caps the live sessions that one client address makes on this instance, so that a single
 * unauthenticated client cannot take every session `maxSessions` allows and leave everybody
 * else with 503 until they expire. A session counts from the moment the manager makes it until it
 * ends (`ended`: deleted or expired, here or anywhere in the fleet).
 *
 * A server with authentication caps per user instead: the address is a poor stand-in for a user
 * behind NAT or a proxy.
 */
export class SessionsPerAddress {
  readonly #sessions: SessionManager;
  readonly #limit: number;
  readonly #recheckIntervalMs: number;
  /**
   * Carries the address of an initialize from its HTTP request to the manager's `created` event,
   * which has no request: the event runs inside `create`, so inside the request's async context.
   */
  readonly #attempts = new AsyncLocalStorage<Attempt>();
  /** Live session ids made here, by address. Never holds an empty set. */
  readonly #live = new Map<string, Set<string>>();
  /** Each id in `#live`, with the address it is counted under. */
  readonly #made = new Map<string, Made>();
  /** Initializes being served, by address: each may make a session. Never holds a 0. */
  readonly #pending = new Map<string, number>();
  /** When each address's sessions were last checked against the store, in ms since the epoch. */
  readonly #checkedAt = new Map<string, number>();

  /** @throws TypeError naming `limit` or `recheckIntervalMs` when it is out of range */
  constructor(options: SessionsPerAddressOptions) {
    const { sessions, limit, recheckIntervalMs } = options;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new TypeError(
        `Expected \`limit\` to be a positive integer, got \`${String(limit)}\` (${typeof limit})`,
      );
    }
    if (!Number.isSafeInteger(recheckIntervalMs) || recheckIntervalMs < 0) {
      throw new TypeError(
        `Expected \`recheckIntervalMs\` to be a non-negative integer of ms, got \`${String(recheckIntervalMs)}\` (${typeof recheckIntervalMs})`,
      );
    }
    this.#sessions = sessions;
    this.#limit = limit;
    this.#recheckIntervalMs = recheckIntervalMs;
    sessions.on("created", ({ session }) => {
      const attempt = this.#attempts.getStore();
      if (attempt === undefined) return; // not made by an initialize served here
      this.#add(session.id, { address: attempt.address, owner: session.owner });
    });
    sessions.on("ended", ({ id }) => this.#remove(id));
  }

  /**
   * Serves an initialize from `address` by calling `serve`, unless the address already holds
   * `limit` sessions; then resolves `false` without calling it. An initialize in flight counts as
   * a session until it is answered, so concurrent ones cannot overshoot the limit.
   */
  async serveInitialize(address: string, serve: () => Promise<void>): Promise<boolean> {
    if (this.#count(address) >= this.#limit) await this.#recheck(address);
    // Checked and reserved with no await in between: no other initialize can slip past.
    if (this.#count(address) >= this.#limit) return false;
    this.#pending.set(address, (this.#pending.get(address) ?? 0) + 1);
    try {
      await this.#attempts.run({ address }, serve);
    } finally {
      const pending = (this.#pending.get(address) ?? 1) - 1;
      if (pending === 0) this.#pending.delete(address);
      else this.#pending.set(address, pending);
    }
    return true;
  }

  #count(address: string): number {
    return (this.#live.get(address)?.size ?? 0) + (this.#pending.get(address) ?? 0);
  }

  #add(id: string, made: Made): void {
    let ids = this.#live.get(made.address);
    if (ids === undefined) {
      ids = new Set();
      this.#live.set(made.address, ids);
    }
    ids.add(id);
    this.#made.set(id, made);
  }

  #remove(id: string): void {
    const address = this.#made.get(id)?.address;
    if (address === undefined) return;
    this.#made.delete(id);
    const ids = this.#live.get(address);
    ids?.delete(id);
    if (ids?.size === 0) {
      this.#live.delete(address);
      this.#checkedAt.delete(address);
    }
  }

  /**
   * Drops the address's sessions that the store no longer has. `ended` normally does that, but
   * an instance can miss it (its Redis subscription was down); then the address would stay at its
   * limit for good. Checked at most once per `recheckIntervalMs` per address, so that a client
   * refused again and again does not cost `limit` store reads each time.
   */
  async #recheck(address: string): Promise<void> {
    // Only initializes in flight: nothing to look up, and nothing to remember for the address.
    const ids = [...(this.#live.get(address) ?? [])];
    if (ids.length === 0) return;
    const now = Date.now();
    const checkedAt = this.#checkedAt.get(address);
    if (checkedAt !== undefined && now - checkedAt < this.#recheckIntervalMs) return;
    this.#checkedAt.set(address, now);
    const found = await Promise.allSettled(
      ids.map((id) => {
        const owner = this.#made.get(id)?.owner;
        return this.#sessions.get(id, owner === undefined ? {} : { owner });
      }),
    );
    // A lookup the store did not answer keeps its session counted; the next check decides.
    found.forEach((result, index) => {
      const id = ids[index];
      if (id !== undefined && result.status === "fulfilled" && result.value === undefined) {
        this.#remove(id);
      }
    });
  }
}
