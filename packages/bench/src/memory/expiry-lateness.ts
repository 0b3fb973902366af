/**
 * How late the expiration handler runs, on the real clock, with 100k live sessions and
 * `cleanupInterval` = 1000 ms: `SessionManager` + `MemorySessionStore` against the seed's
 * pattern, a `setInterval(cleanupInterval)` that scans every session of a `Map`.
 *
 * Sessions are created at an even pace over `CREATE_WINDOW_MS`, so deadlines spread over that
 * window too; the TTL is longer than the window, so all 100k are live at once before the first
 * one expires.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import {
  type BenchmarkGroup,
  collectGarbage,
  compare,
  percentileOfSorted,
  type RepeatOptions,
  type Row,
  repeat,
  shortCount,
} from "../harness.js";
import { INITIALIZE_METADATA, memoryManager, type SeedRecord } from "./fixtures.js";

const SESSIONS = 100_000;
const CLEANUP_INTERVAL_MS = 1000;
const TTL_MS = 1500;
const CREATE_WINDOW_MS = 1000;
const CHUNK = 1000;
/** Past this, something is broken: fail instead of waiting forever. */
const GIVE_UP_MS = CREATE_WINDOW_MS + TTL_MS + 3 * CLEANUP_INTERVAL_MS + 10_000;
const REPEAT: RepeatOptions = { warmup: 1, runs: 3 };
const RESOLUTION_MS = 1;

interface Lateness {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** Records `Date.now() - expiresAt` for each expired id and resolves once all have expired. */
class LatenessRecorder {
  readonly #deadlines = new Map<string, number>();
  readonly #lateness = new Float64Array(SESSIONS);
  #recorded = 0;
  #resolve: () => void = () => {};
  readonly #done = new Promise<void>((resolve) => {
    this.#resolve = resolve;
  });

  expect(id: string, expiresAt: number): void {
    this.#deadlines.set(id, expiresAt);
  }

  /** The expiration handler. */
  expired(id: string): void {
    const deadline = this.#deadlines.get(id);
    if (deadline === undefined) throw new Error("An unknown session expired");
    this.#lateness[this.#recorded++] = Date.now() - deadline;
    if (this.#recorded === SESSIONS) this.#resolve();
  }

  /** Waits for every session to expire; a ref'd timer keeps the process up meanwhile. */
  async settle(): Promise<Lateness> {
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(`Only ${this.#recorded} of ${SESSIONS} sessions expired in ${GIVE_UP_MS} ms`),
          ),
        GIVE_UP_MS,
      );
    });
    try {
      await Promise.race([this.#done, giveUp]);
    } finally {
      clearTimeout(timer);
    }
    const sorted = this.#lateness.sort();
    return {
      p50: percentileOfSorted(sorted, 50),
      p99: percentileOfSorted(sorted, 99),
      max: sorted[sorted.length - 1] as number,
    };
  }
}

/** Calls `create` SESSIONS times, in chunks spread evenly over CREATE_WINDOW_MS. */
async function createPaced(create: () => Promise<void> | void): Promise<void> {
  const chunks = SESSIONS / CHUNK;
  const started = performance.now();
  for (let chunk = 0; chunk < chunks; chunk++) {
    const wait = started + (chunk * CREATE_WINDOW_MS) / chunks - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    for (let i = 0; i < CHUNK; i++) await create();
  }
}

async function measureManager(): Promise<Lateness> {
  collectGarbage();
  const recorder = new LatenessRecorder();
  const manager = memoryManager({
    enabled: true,
    ttl: TTL_MS,
    cleanupInterval: CLEANUP_INTERVAL_MS,
  });
  manager.setExpirationHandler((id) => recorder.expired(id));
  try {
    await createPaced(async () => {
      const session = await manager.create(INITIALIZE_METADATA);
      recorder.expect(session.id, session.expiresAt);
    });
    return await recorder.settle();
  } finally {
    await manager.close();
  }
}

async function measureIntervalScan(): Promise<Lateness> {
  collectGarbage();
  const recorder = new LatenessRecorder();
  const sessions = new Map<string, SeedRecord>();
  const timer = setInterval(() => {
    const now = Date.now();
    for (const session of sessions.values()) {
      if (session.expiresAt <= now) {
        sessions.delete(session.id);
        recorder.expired(session.id);
      }
    }
  }, CLEANUP_INTERVAL_MS);
  try {
    await createPaced(() => {
      const now = Date.now();
      const id = randomUUID();
      const expiresAt = now + TTL_MS;
      sessions.set(id, {
        id,
        createdAt: now,
        lastAccessedAt: now,
        expiresAt,
        metadata: INITIALIZE_METADATA,
      });
      recorder.expect(id, expiresAt);
    });
    return await recorder.settle();
  } finally {
    clearInterval(timer);
  }
}

export const memoryExpiryLateness: BenchmarkGroup = {
  name: "memory/expiry",
  async run(): Promise<Row[]> {
    const label = `${shortCount(SESSIONS)} live`;
    const ours = await repeat(`manager expiry @ ${label}`, REPEAT, measureManager);
    const baseline = await repeat(
      `setInterval scan expiry @ ${label}`,
      REPEAT,
      measureIntervalScan,
    );
    return (["p50", "p99", "max"] as const).map((statistic) =>
      compare(
        {
          group: "memory/expiry",
          name: `expiry lateness ${statistic} @ ${label}, cleanupInterval ${CLEANUP_INTERVAL_MS} ms`,
          unit: "ms",
          better: "lower",
          baselineLabel: `setInterval(${CLEANUP_INTERVAL_MS} ms) full scan of a Map`,
          resolution: RESOLUTION_MS,
        },
        ours.map((run) => run[statistic]),
        baseline.map((run) => run[statistic]),
      ),
    );
  },
};
