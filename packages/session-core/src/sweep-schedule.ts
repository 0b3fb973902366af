import { type Clock, unrefTimeout } from "./clock.js";
import { describeError, log, type SendLog } from "./logger.js";
import type { SessionStore, SweepResult } from "./session-store.js";

/** Sweeps follow each other no closer than this, in ms: the most a due handler waits extra. */
const MIN_SWEEP_SPACING_MS = 20;

export interface SweepScheduleOptions {
  readonly store: SessionStore;
  readonly clock: Clock;
  /** The longest wait between sweeps, in ms. */
  readonly cleanupInterval: number;
  readonly logger: SendLog;
  readonly loggerName: string;
  /** Keeps a timed sweep's work until `close()`. */
  readonly track: (work: Promise<void>) => void;
  /** Runs after each timed sweep, whether it succeeded or not. */
  readonly afterSweep: () => void;
}

/**
 * When the store is swept. One timer, unref'd, always armed for the earliest of the next
 * interval, the store's next deadline and any deadline made since: a deadline that arrives while
 * a sweep runs is kept for the timer that sweep arms, never lost behind a later one. Sweeps never
 * overlap.
 */
export class SweepSchedule {
  readonly #options: SweepScheduleOptions;
  #timer: NodeJS.Timeout | undefined;
  /** When the armed timer fires (the clock's ms); `Infinity` while none is armed. */
  #nextSweepAt = Number.POSITIVE_INFINITY;
  /** The store sweep running now, timed or on demand. */
  #sweeping: Promise<unknown> | undefined;
  /**
   * True from a timed sweep's firing until it has armed the next timer. Meanwhile no timer is
   * armed, and `#dueDuringSweep` keeps the earliest deadline that arrived.
   */
  #timedSweepRunning = false;
  #dueDuringSweep = Number.POSITIVE_INFINITY;
  #running = false;

  constructor(options: SweepScheduleOptions) {
    this.#options = options;
  }

  /** Arms the timer for a sweep now. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.sweepBy(this.#options.clock.now());
  }

  /** Clears the timer; a timed sweep in flight finishes and arms nothing. */
  stop(): void {
    this.#running = false;
    this.#disarm();
  }

  /** Makes sure a timed sweep runs no later than `dueAt` (the clock's ms), while started. */
  sweepBy(dueAt: number): void {
    if (!this.#running) return;
    if (this.#timedSweepRunning) {
      this.#dueDuringSweep = Math.min(this.#dueDuringSweep, dueAt);
      return;
    }
    if (dueAt < this.#nextSweepAt) this.#arm(dueAt - this.#options.clock.now());
  }

  /** One store sweep at the clock's now, after any sweep already running. */
  async sweepOnce(): Promise<SweepResult> {
    while (this.#sweeping) await this.#sweeping;
    const sweep = this.#options.store.sweep(this.#options.clock.now());
    const settled = sweep.then(
      () => undefined,
      () => undefined,
    );
    this.#sweeping = settled;
    try {
      return await sweep;
    } finally {
      if (this.#sweeping === settled) this.#sweeping = undefined;
    }
  }

  #arm(delayMs: number): void {
    this.#disarm();
    this.#nextSweepAt = this.#options.clock.now() + delayMs;
    this.#timer = unrefTimeout(() => {
      this.#timer = undefined;
      this.#nextSweepAt = Number.POSITIVE_INFINITY;
      this.#timedSweepRunning = true;
      this.#options.track(this.#timedSweep());
    }, delayMs);
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#nextSweepAt = Number.POSITIVE_INFINITY;
  }

  async #timedSweep(): Promise<void> {
    let nextDueAt: number | undefined;
    try {
      ({ nextDueAt } = await this.sweepOnce());
    } catch (error) {
      // An outage is retried on the next interval; sessions due meanwhile are claimed then.
      log(this.#options.logger, {
        level: "warning",
        logger: this.#options.loggerName,
        data: {
          message: "Expiry sweep failed; retrying next interval",
          error: describeError(error),
        },
      });
    }
    this.#timedSweepRunning = false;
    const dueDuringSweep = this.#dueDuringSweep;
    this.#dueDuringSweep = Number.POSITIVE_INFINITY;
    this.#options.afterSweep();
    if (!this.#running) return;
    const now = this.#options.clock.now();
    // Jitter only shortens the wait, so a fleet never sweeps in lockstep and never later than
    // `cleanupInterval`.
    const interval = this.#options.cleanupInterval * (0.8 + Math.random() * 0.2);
    // A session created while the sweep ran may be missing from what the store read.
    const dueAt = Math.min(now + interval, nextDueAt ?? Number.POSITIVE_INFINITY, dueDuringSweep);
    // Dense deadlines would otherwise mean a sweep per deadline; in a fleet, one per instance.
    this.#arm(Math.max(MIN_SWEEP_SPACING_MS, dueAt - now));
  }
}
