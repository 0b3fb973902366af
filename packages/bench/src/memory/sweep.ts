/**
 * The blocking cost of one expiry sweep at 1M live sessions, `MemorySessionStore.sweep(now)`
 * against the seed's full scan of a `Map`. Both sides get the same ids and deadlines; the data
 * is rebuilt before every run that changes it (untimed), a full GC runs, and only the sweep is
 * timed.
 *
 * Deadline order matters to the store, not to the scan: deadlines that follow creation order
 * (sessions made over time, the oldest expiring first) keep the due heap close to allocation
 * order, while random order makes every step of a heap pop a cache miss. Both are reported.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { MemorySessionStore } from "@mcp-sessions/session-memory";
import {
  type BenchmarkGroup,
  collectGarbage,
  compare,
  progress,
  type RepeatOptions,
  type Row,
  repeat,
  seededRandom,
  shortCount,
} from "../harness.js";
import { type SeedRecord, TTL_MS } from "./fixtures.js";

const LIVE = 1_000_000;
/**
 * The warm-up is full size: on smaller data the first 1M sweeps still ran 3–4× slower than the
 * rest, so it would not have settled anything.
 */
const REPEAT: RepeatOptions = { warmup: 1, runs: 5 };
/** Deadlines of due sessions fall within the last minute. */
const OVERDUE_SPAN_MS = 60_000;
/** performance.now() is good to about a microsecond. */
const RESOLUTION_MS = 0.001;

type DeadlineOrder = "creation" | "random";

interface Scenario {
  readonly label: string;
  /** Fraction of sessions due at `now`. */
  readonly dueFraction: number;
  readonly order: DeadlineOrder;
}

const SCENARIOS: readonly Scenario[] = [
  { label: "0% due", dueFraction: 0, order: "creation" },
  { label: "1% due, deadlines in creation order", dueFraction: 0.01, order: "creation" },
  { label: "1% due, deadlines in random order", dueFraction: 0.01, order: "random" },
];

/** Ids and deadlines shared by both sides, so they sweep exactly the same data. */
interface Shape {
  readonly now: number;
  readonly ids: readonly string[];
  readonly deadlines: Float64Array;
  readonly due: number;
}

function makeShape(ids: readonly string[], now: number, scenario: Scenario): Shape {
  const live = ids.length;
  const due = Math.round(live * scenario.dueFraction);
  const deadlines = new Float64Array(live);
  if (scenario.order === "creation") {
    // The first `due` sessions are overdue, the rest expire within the TTL, all in id order.
    for (let i = 0; i < live; i++) {
      deadlines[i] =
        i < due
          ? now - OVERDUE_SPAN_MS + Math.floor((i * OVERDUE_SPAN_MS) / due)
          : now + 1 + Math.floor(((i - due) * TTL_MS) / (live - due));
    }
  } else {
    // Every hundredth session is overdue; deadlines are random within their span.
    const random = seededRandom(0x5eed);
    const stride = due === 0 ? 0 : live / due;
    for (let i = 0; i < live; i++) {
      deadlines[i] =
        stride > 0 && i % stride === 0
          ? now - 1 - Math.floor(random() * OVERDUE_SPAN_MS)
          : now + 1 + Math.floor(random() * TTL_MS);
    }
  }
  return { now, ids, deadlines, due };
}

function recordAt(shape: Shape, index: number): SeedRecord {
  const expiresAt = shape.deadlines[index] as number;
  const createdAt = expiresAt - TTL_MS;
  return { id: shape.ids[index] as string, createdAt, lastAccessedAt: createdAt, expiresAt };
}

/** A store holding `shape`, and the number of expiry claims delivered to its subscriber. */
interface BuiltStore {
  readonly store: MemorySessionStore;
  readonly claims: { count: number };
}

async function buildStore(shape: Shape): Promise<BuiltStore> {
  const store = new MemorySessionStore();
  const claims = { count: 0 };
  store.subscribe({
    expired: () => {
      claims.count++;
    },
    ended: () => {},
  });
  for (let i = 0; i < shape.ids.length; i++) await store.create(recordAt(shape, i));
  return { store, claims };
}

async function timeStoreSweep({ store, claims }: BuiltStore, shape: Shape): Promise<number> {
  collectGarbage();
  const before = claims.count;
  const started = performance.now();
  const { claimed } = await store.sweep(shape.now);
  const elapsed = performance.now() - started;
  const left = await store.count(shape.now);
  if (
    claimed !== shape.due ||
    claims.count - before !== shape.due ||
    left !== shape.ids.length - shape.due
  ) {
    throw new Error(
      `sweep claimed ${claimed} (${claims.count - before} delivered, ${left} left), expected ${shape.due}`,
    );
  }
  return elapsed;
}

function buildMap(shape: Shape): Map<string, SeedRecord> {
  const sessions = new Map<string, SeedRecord>();
  for (let i = 0; i < shape.ids.length; i++) {
    const record = recordAt(shape, i);
    sessions.set(record.id, record);
  }
  return sessions;
}

function timeMapSweep(sessions: Map<string, SeedRecord>, shape: Shape): number {
  collectGarbage();
  const now = shape.now;
  const started = performance.now();
  for (const session of sessions.values()) {
    if (session.expiresAt <= now) sessions.delete(session.id);
  }
  const elapsed = performance.now() - started;
  if (sessions.size !== shape.ids.length - shape.due) {
    throw new Error(
      `full scan left ${sessions.size} sessions, expected ${shape.ids.length - shape.due}`,
    );
  }
  return elapsed;
}

/**
 * Times one sweep per run on fresh data. A sweep with nothing due changes nothing, so there one
 * build serves every run; otherwise each run rebuilds.
 */
async function measure(
  shape: Shape,
  label: string,
): Promise<{ ours: number[]; baseline: number[] }> {
  const reuse = shape.due === 0;
  let store = reuse ? await buildStore(shape) : undefined;
  const ours = await repeat(`store ${label}`, REPEAT, async () => {
    const built = store ?? (await buildStore(shape));
    try {
      return await timeStoreSweep(built, shape);
    } finally {
      if (!reuse) await built.store.close();
    }
  });
  await store?.store.close();
  store = undefined;

  let map = reuse ? buildMap(shape) : undefined;
  const baseline = await repeat(`Map ${label}`, REPEAT, async () =>
    timeMapSweep(map ?? buildMap(shape), shape),
  );
  map = undefined;
  collectGarbage();
  return { ours, baseline };
}

export const memorySweep: BenchmarkGroup = {
  name: "memory/sweep",
  async run(): Promise<Row[]> {
    const now = Date.now();
    progress(`memory/sweep: generating ${shortCount(LIVE)} ids`);
    const ids = Array.from({ length: LIVE }, () => randomUUID());
    const rows: Row[] = [];
    for (const scenario of SCENARIOS) {
      const shape = makeShape(ids, now, scenario);
      const name = `sweep @ ${shortCount(LIVE)} live, ${scenario.label}`;
      const { ours, baseline } = await measure(shape, name);
      rows.push(
        compare(
          {
            group: "memory/sweep",
            name,
            unit: "ms",
            better: "lower",
            baselineLabel: "full scan of a Map",
            resolution: RESOLUTION_MS,
          },
          ours,
          baseline,
        ),
      );
    }
    return rows;
  },
};
