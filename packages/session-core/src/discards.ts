import { unrefTimeout } from "./clock.js";
import { describeError, log, type SendLog } from "./logger.js";
import type { SessionRecord } from "./session.js";
import type { SessionStore } from "./session-store.js";

/** First wait before retrying a discard the store did not answer, in ms; it doubles from here. */
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

interface Entry {
  /** Tells this record from another one under the same id. */
  readonly createdAt: number;
  readonly expiresAt: number;
  answered: boolean;
  /** Resolves the promise `add` returned: the store answered, or retrying stopped. */
  readonly settle: () => void;
}

export interface DiscardsOptions {
  readonly store: SessionStore;
  readonly logger: SendLog;
  readonly loggerName: string;
}

/**
 * Records that may exist in the store although no caller ever got them: a create that failed
 * with `STORE_UNAVAILABLE` (the command may still have reached the backend, and land once it
 * answers again), or a session its creator refused. Each is deleted as soon as the store
 * answers, retried with backoff until then; the first attempt goes out at once, so on a
 * connection that keeps order it runs right after the create it undoes. An expiry claim for one
 * of them runs no expiration handler here: nobody ever used that session.
 */
export class Discards {
  readonly #options: DiscardsOptions;
  /**
   * Ids to delete, with their deadline. `answered` once the store found nothing to delete: the
   * id stays until `prune`, in case a sweep still claims it.
   */
  readonly #pending = new Map<string, Entry>();
  #running: Promise<void> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(options: DiscardsOptions) {
    this.#options = options;
  }

  /** Deletes the record now, or once the store answers again, if it is still this record. */
  add(record: SessionRecord): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const { id, createdAt, expiresAt } = record;
    const settled = new Promise<void>((settle) => {
      this.#pending.get(id)?.settle();
      this.#pending.set(id, { createdAt, expiresAt, answered: false, settle });
    });
    this.#running ??= this.#run().finally(() => {
      this.#running = undefined;
    });
    return settled;
  }

  /** True, once, when an expiry claim is for a discarded id: the caller runs no handler for it. */
  consumeClaim(id: string): boolean {
    const entry = this.#pending.get(id);
    entry?.settle();
    return this.#pending.delete(id);
  }

  /** Forgets confirmed ids whose deadline is more than `graceMs` before `now`. */
  prune(now: number, graceMs: number): void {
    for (const [id, entry] of this.#pending) {
      if (entry.answered && entry.expiresAt + graceMs < now) this.#pending.delete(id);
    }
  }

  /** Stops retrying; waits for the attempt in flight. Leftovers expire at their own deadline. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#wake?.();
    await this.#running;
    const left = [...this.#pending.values()].filter((entry) => !entry.answered).length;
    for (const entry of this.#pending.values()) entry.settle();
    if (left > 0) {
      log(this.#options.logger, {
        level: "warning",
        logger: this.#options.loggerName,
        data: {
          message: `Could not remove ${left} session${left === 1 ? "" : "s"} whose create failed; each expires at its deadline`,
        },
      });
    }
  }

  async #run(): Promise<void> {
    let waitMs = FIRST_RETRY_MS;
    for (;;) {
      const due = [...this.#pending].filter(([, entry]) => !entry.answered);
      if (due.length === 0) return;
      const results = await Promise.allSettled(due.map(([id, entry]) => this.#remove(id, entry)));
      const failure = results.find((result) => result.status === "rejected")?.reason;
      if (failure === undefined) continue;
      if (this.#closed) return;
      log(this.#options.logger, {
        level: "warning",
        logger: this.#options.loggerName,
        data: {
          message: `Removing sessions whose create failed; retrying in ${waitMs} ms`,
          error: describeError(failure),
        },
      });
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#retryTimer = unrefTimeout(resolve, waitMs);
      });
      this.#wake = undefined;
      if (this.#closed) return;
      waitMs = Math.min(waitMs * 2, MAX_RETRY_MS);
    }
  }

  async #remove(id: string, entry: Entry): Promise<void> {
    // `now: 0`: however late the store answers, the record counts as live, never as expired.
    const lookup = await this.#options.store.get(id, { now: 0 });
    const ours = lookup.status === "found" && lookup.session.createdAt === entry.createdAt;
    // Removed: no claim can follow. Someone else's (a `register` of an id that existed): not ours.
    if (ours ? await this.#options.store.delete(id, { now: 0 }) : lookup.status === "found") {
      this.#pending.delete(id);
    } else {
      // Not there: it never landed, or it passed its deadline and a sweep claims it soon, so the
      // id stays until `prune`.
      entry.answered = true;
    }
    entry.settle();
  }
}
