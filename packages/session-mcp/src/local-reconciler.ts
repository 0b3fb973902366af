import type { SendLog, SessionManager } from "@mcp-sessions/session-core";
import { describeError, log, unrefTimeout } from "@mcp-sessions/session-core/store";

const LOGGER = "session-mcp/reconciler";
/** Sessions checked against the store per `cleanupInterval`. */
export const RECONCILE_BATCH = 100;

export interface LocalReconcilerOptions {
  readonly sessions: SessionManager;
  /** The ids of the sessions open on this instance now. */
  readonly localIds: () => Iterable<string>;
  /** Releases what this instance holds for a session the store no longer has. */
  readonly release: (id: string) => Promise<void>;
  readonly logger: SendLog;
}

/**
 * Makes this instance's open sessions converge with the store. `ended` normally closes them,
 * but a signal can be missed: an instance still re-subscribing after a Redis restart does not
 * hear another instance's claims, and a restart without persistence ends sessions with no signal
 * at all. Every `cleanupInterval`, one bounded batch of local sessions is looked up, round
 * robin, and whatever the store no longer has (unknown, expired) is released.
 */
export class LocalReconciler {
  readonly #options: LocalReconcilerOptions;
  /** The ids of the current pass still to check; refilled from `localIds` when empty. */
  #pass: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(options: LocalReconcilerOptions) {
    this.#options = options;
    this.#arm();
  }

  /** Stops checking and waits for a batch in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #arm(): void {
    this.#timer = unrefTimeout(() => {
      this.#running = this.#checkBatch().finally(() => {
        this.#running = undefined;
        if (!this.#closed) this.#arm();
      });
    }, this.#options.sessions.cleanupInterval);
  }

  async #checkBatch(): Promise<void> {
    if (this.#pass.length === 0) this.#pass = [...this.#options.localIds()];
    const batch = this.#pass.splice(0, RECONCILE_BATCH);
    const { sessions, release, logger } = this.#options;
    const results = await Promise.allSettled(
      batch.map(async (id) => {
        // No owner: this is the instance itself asking, not a client.
        if ((await sessions.get(id)) === undefined) await release(id);
      }),
    );
    const failure = results.find((result) => result.status === "rejected")?.reason;
    if (failure !== undefined && !this.#closed) {
      // An outage: the same sessions come round again on a later pass.
      log(logger, {
        level: "warning",
        logger: LOGGER,
        data: {
          message: "Checking local sessions against the store failed",
          error: describeError(failure),
        },
      });
    }
  }
}
