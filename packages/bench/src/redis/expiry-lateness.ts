/**
 * How late the expiration handler runs, on the real clock, in a Redis holding 100k live
 * long-lived sessions plus 1,000 short-lived ones whose deadlines spread over about 1 s.
 *
 * - ours, the full design: keyspace `expired` events plus the sweeper, `cleanupInterval` 1000 ms;
 * - baseline, keyspace notifications alone (no sweeper): what a store gets that relies on Redis
 *   to announce expiry. Redis expires idle keys lazily, so many announcements come late or not
 *   at all; the wait is capped, and whatever has not arrived by then is counted at the cap.
 *
 * Both run on the same server and the same 100k sessions, under the same prefix.
 */

import type { Redis } from "ioredis";
import {
  type BenchmarkGroup,
  compare,
  percentileOfSorted,
  progress,
  type RepeatOptions,
  type Row,
  repeat,
  shortCount,
} from "../harness.js";
import { type BenchRedis, INITIALIZE_PARAMS, withRedis } from "./fixtures.js";
import { populate } from "./load.js";

const GROUP = "redis/expiry";
const LONG_LIVED = 100_000;
const EXPIRING = 1000;
const SHORT_TTL_MS = 1500;
/** The expiring sessions are made in CHUNKS chunks spread evenly over this window. */
const CREATE_WINDOW_MS = 1000;
const CHUNKS = 10;
const CLEANUP_INTERVAL_MS = 1000;
/** The full design must have run every handler this long after the last deadline, or it failed. */
const FULL_DESIGN_GIVE_UP_MS = 15_000;
/** Keyspace events alone: the wait ends this long after the last deadline. */
const EVENTS_ONLY_CAP_MS = 20_000;
const POPULATE_CONCURRENCY = 512;
const FULL_DESIGN_REPEAT: RepeatOptions = { warmup: 1, runs: 3 };
/** Each run waits out the cap, so no warm-up: the run is Redis's timing, not our JIT's. */
const EVENTS_ONLY_REPEAT: RepeatOptions = { warmup: 0, runs: 3 };
const RESOLUTION_MS = 1;

type Configuration = "full-design" | "events-only";
/** What happens when the wait ends with handlers still outstanding. */
type OnTimeout = "fail" | "count-at-cap";

const STATISTICS = ["p50", "p99", "max"] as const;
type Statistic = (typeof STATISTICS)[number];

interface Lateness {
  readonly values: Record<Statistic, number>;
  /** A statistic is a lower bound when a session counted at the cap reaches its rank. */
  readonly lowerBound: Record<Statistic, boolean>;
  /** Handlers that ran before the wait ended. */
  readonly delivered: number;
}

/** Records `Date.now() - expiresAt` for each expected session as its handler runs. */
class LatenessRecorder {
  readonly #deadlines = new Map<string, number>();
  readonly #lateness: number[] = [];
  #lastDeadline = 0;
  #strays = 0;
  #open = true;
  #resolve: () => void = () => {};
  readonly #done = new Promise<void>((resolve) => {
    this.#resolve = resolve;
  });

  expect(id: string, expiresAt: number): void {
    this.#deadlines.set(id, expiresAt);
    this.#lastDeadline = Math.max(this.#lastDeadline, expiresAt);
  }

  /** The expiration handler. Sessions of an earlier run (claimed late) are only counted. */
  expired(id: string): void {
    if (!this.#open) return;
    const deadline = this.#deadlines.get(id);
    if (deadline === undefined) {
      this.#strays++;
      return;
    }
    this.#deadlines.delete(id);
    this.#lateness.push(Date.now() - deadline);
    if (this.#lateness.length === EXPIRING) this.#resolve();
  }

  /**
   * Waits until every expected handler ran, or until `waitMs` after the last deadline; then
   * stops recording. A ref'd timer keeps the process up meanwhile.
   */
  async settle(waitMs: number, onTimeout: OnTimeout, what: string): Promise<Lateness> {
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, this.#lastDeadline + waitMs - Date.now()));
    });
    try {
      await Promise.race([this.#done, cap]);
    } finally {
      clearTimeout(timer);
    }
    this.#open = false;
    const endedAt = Date.now();
    const delivered = this.#lateness.length;
    if (this.#strays > 0)
      progress(`  ${what}: ${this.#strays} handlers ran for earlier runs' sessions`);
    if (delivered < EXPIRING && onTimeout === "fail") {
      throw new Error(
        `${what}: only ${delivered} of ${EXPIRING} expiration handlers ran within ${waitMs} ms of the last deadline`,
      );
    }
    // Outstanding sessions are at least this late; the true figure is unknown.
    const samples = [
      ...this.#lateness.map((value) => ({ value, atCap: false })),
      ...[...this.#deadlines.values()].map((deadline) => ({
        value: endedAt - deadline,
        atCap: true,
      })),
    ].sort((a, b) => a.value - b.value);
    const sorted = samples.map((sample) => sample.value);
    const firstAtCap = samples.findIndex((sample) => sample.atCap);
    const at = (p: number) => {
      // Nearest rank, as percentileOfSorted picks it.
      const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1;
      return {
        value: percentileOfSorted(sorted, p),
        lowerBound: firstAtCap !== -1 && firstAtCap <= rank,
      };
    };
    const p50 = at(50);
    const p99 = at(99);
    const max = at(100);
    return {
      values: { p50: p50.value, p99: p99.value, max: max.value },
      lowerBound: { p50: p50.lowerBound, p99: p99.lowerBound, max: max.lowerBound },
      delivered,
    };
  }
}

/** Calls `create` EXPIRING times, in CHUNKS chunks spread evenly over CREATE_WINDOW_MS. */
async function createPaced(create: () => Promise<void>): Promise<void> {
  const started = Date.now();
  for (let chunk = 0; chunk < CHUNKS; chunk++) {
    const wait = started + (chunk * CREATE_WINDOW_MS) / CHUNKS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    await Promise.all(Array.from({ length: EXPIRING / CHUNKS }, create));
  }
}

async function measure(
  redis: BenchRedis,
  client: Redis,
  configuration: Configuration,
): Promise<Lateness> {
  const opened = await redis.manager(
    client,
    configuration === "full-design"
      ? { enabled: true, ttl: SHORT_TTL_MS, cleanupInterval: CLEANUP_INTERVAL_MS }
      : { enabled: false, ttl: SHORT_TTL_MS },
    { keyspaceEvents: "configure" },
  );
  const { manager, store } = opened;
  const recorder = new LatenessRecorder();
  manager.setExpirationHandler((id) => recorder.expired(id));
  try {
    await createPaced(async () => {
      const session = await manager.create(INITIALIZE_PARAMS);
      recorder.expect(session.id, session.expiresAt);
    });
    const lateness =
      configuration === "full-design"
        ? await recorder.settle(FULL_DESIGN_GIVE_UP_MS, "fail", configuration)
        : await recorder.settle(EVENTS_ONLY_CAP_MS, "count-at-cap", configuration);
    if (configuration === "events-only") {
      progress(
        `  keyspace events alone: ${lateness.delivered} of ${EXPIRING} handlers ran within ${EVENTS_ONLY_CAP_MS / 1000} s of the last deadline`,
      );
      // Untimed: claim the rest with a sweep, so the next run starts with only the 100k.
      // A sweep asks for the next one at once (nextDueAt <= now) only while due batches are full.
      for (;;) {
        const now = Date.now();
        const { nextDueAt } = await store.sweep(now);
        if (nextDueAt === undefined || nextDueAt > now) break;
      }
    }
    return lateness;
  } finally {
    await opened.close();
  }
}

export const redisExpiryLateness: BenchmarkGroup = {
  name: GROUP,
  run: () =>
    withRedis(async (redis) => {
      const client = redis.connect();
      progress(`${GROUP}: populating ${shortCount(LONG_LIVED)} long-lived sessions`);
      const longLived = await redis.manager(client);
      await populate(
        LONG_LIVED,
        POPULATE_CONCURRENCY,
        async () => (await longLived.manager.create(INITIALIZE_PARAMS)).id,
      );
      await longLived.close();

      const label = `${shortCount(LONG_LIVED)} live + ${shortCount(EXPIRING)} expiring`;
      const ours = await repeat(`keyspace events + sweeper @ ${label}`, FULL_DESIGN_REPEAT, () =>
        measure(redis, client, "full-design"),
      );
      const baseline = await repeat(`keyspace events alone @ ${label}`, EVENTS_ONLY_REPEAT, () =>
        measure(redis, client, "events-only"),
      );

      const rows: Row[] = STATISTICS.map((statistic) => {
        const capped = baseline.some((run) => run.lowerBound[statistic]);
        const row = compare(
          {
            group: GROUP,
            name: `expiry lateness ${statistic} @ ${label}, cleanupInterval ${CLEANUP_INTERVAL_MS} ms`,
            unit: "ms",
            better: "lower",
            baselineLabel: `keyspace events alone, no sweeper${capped ? `; ≥: unrun handlers counted at the ${EVENTS_ONLY_CAP_MS / 1000} s cap` : ""}`,
            resolution: RESOLUTION_MS,
          },
          ours.map((run) => run.values[statistic]),
          baseline.map((run) => run.values[statistic]),
        );
        // A capped baseline is a lower bound on its lateness, so the ratio is one too.
        return capped ? { ...row, timesBetterIsLowerBound: true } : row;
      });
      rows.push(
        compare(
          {
            group: GROUP,
            name: `expiration handlers run within ${EVENTS_ONLY_CAP_MS / 1000} s of the last deadline @ ${label}`,
            unit: `of ${shortCount(EXPIRING)}`,
            better: "higher",
            baselineLabel: "keyspace events alone, no sweeper",
          },
          ours.map((run) => run.delivered),
          baseline.map((run) => run.delivered),
        ),
      );
      return rows;
    }),
};
