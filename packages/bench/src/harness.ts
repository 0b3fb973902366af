/**
 * The benchmark harness: repeat a measurement, take medians, compare against a baseline measured
 * in the same process run, and report as one markdown table plus a JSON file. Nothing in here
 * knows about sessions, so the memory, Redis and MCP groups all share it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { arch, cpus, platform, totalmem } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

/**
 * `BENCH_QUICK=1` shrinks the groups that honour it (shorter load, fewer calls, one kept run) to
 * check that they work; its numbers are not for comparison. The other groups ignore it.
 */
export const QUICK = process.env.BENCH_QUICK === "1";

/** Which way a metric improves: ops/s are better higher, milliseconds and bytes lower. */
export type Better = "higher" | "lower";

/** How often to run a measurement. */
export interface RepeatOptions {
  /** Runs made and thrown away first, so the JIT and the allocator settle. */
  readonly warmup: number;
  /** Runs kept; a figure is the median of these. Minimum: `1`. */
  readonly runs: number;
}

/** What one table row compares, before any numbers exist. */
export interface Comparison {
  /** The benchmark group, such as `"memory/sweep"`. */
  readonly group: string;
  /** The row, such as `"sweep @ 1M live, 1% due"`. */
  readonly name: string;
  /** Unit of both medians, such as `"ops/s"`, `"ms"`, `"bytes/session"`. */
  readonly unit: string;
  readonly better: Better;
  /** The baseline in a few words; the package README says more. */
  readonly baselineLabel: string;
  /**
   * The smallest difference the measurement can see (1 for `Date.now()` ms). A ratio whose
   * divisor is below it is computed against it instead and shown as a lower bound (`≥`).
   * @default 0 (exact)
   */
  readonly resolution?: number;
}

/** A median and the samples it came from. */
export interface Summary {
  readonly median: number;
  readonly samples: readonly number[];
}

/** One row of the report. */
export interface Row extends Comparison {
  readonly ours: Summary;
  readonly baseline: Summary;
  /**
   * How many times better ours is than the baseline: ours/baseline when higher is better,
   * baseline/ours when lower is better. Above 1, ours wins.
   */
  readonly timesBetter: number;
  /** True when `timesBetter` is a lower bound because ours was below `resolution`. */
  readonly timesBetterIsLowerBound: boolean;
  /** Kept runs per side (warm-ups excluded). */
  readonly runs: number;
}

/** A set of rows measured together; one file under `src/<backend>/` each. */
export interface BenchmarkGroup {
  /** `<backend>/<topic>`, such as `"memory/sweep"`; `pnpm bench -- sweep` selects by substring. */
  readonly name: string;
  run(): Promise<Row[]>;
}

/** Writes one progress line to stderr, so stdout holds only the table. */
export function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/**
 * Runs `measure` `warmup + runs` times in sequence and returns the kept results.
 * @example const samples = await repeat("get @ 10k", { warmup: 1, runs: 5 }, () => timeGets());
 */
export async function repeat<T>(
  label: string,
  options: RepeatOptions,
  measure: () => Promise<T>,
): Promise<T[]> {
  const kept: T[] = [];
  for (let run = 0; run < options.warmup + options.runs; run++) {
    const warmup = run < options.warmup;
    const started = performance.now();
    const result = await measure();
    const seconds = ((performance.now() - started) / 1000).toFixed(2);
    progress(
      `  ${label}: ${warmup ? `warm-up ${run + 1}/${options.warmup}` : `run ${run - options.warmup + 1}/${options.runs}`} (${seconds} s)`,
    );
    if (!warmup) kept.push(result);
  }
  return kept;
}

/** Operations per second, from a count and the milliseconds it took. */
export function opsPerSecond(operations: number, ms: number): number {
  return (operations * 1000) / ms;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Nearest-rank percentile (`p` in 0…100) of values already sorted ascending. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new RangeError("percentile of no values");
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** Builds a row from the kept samples of both sides. */
export function compare(
  comparison: Comparison,
  ours: readonly number[],
  baseline: readonly number[],
): Row {
  const oursSummary = { median: median(ours), samples: ours };
  const baselineSummary = { median: median(baseline), samples: baseline };
  const resolution = comparison.resolution ?? 0;
  const [numerator, divisor] =
    comparison.better === "higher"
      ? [oursSummary.median, baselineSummary.median]
      : [baselineSummary.median, oursSummary.median];
  const clamped = divisor < resolution;
  return {
    ...comparison,
    ours: oursSummary,
    baseline: baselineSummary,
    timesBetter: numerator / (clamped ? resolution : divisor),
    timesBetterIsLowerBound: clamped,
    runs: Math.min(ours.length, baseline.length),
  };
}

/**
 * Runs a full garbage collection, so that no collection of earlier garbage lands in a timed
 * section. The bench runs under `node --expose-gc`; without it, this throws.
 */
export function collectGarbage(): void {
  const gc = globalThis.gc;
  if (gc === undefined) {
    throw new Error("global.gc is missing: run the bench with `node --expose-gc` (`pnpm bench`)");
  }
  gc();
}

/** A seeded PRNG (mulberry32) returning floats in [0, 1), so every run sees the same data. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` pseudo-random indices below `bound`, the same for the same seed. */
export function randomIndices(count: number, bound: number, seed: number): Uint32Array {
  const random = seededRandom(seed);
  const indices = new Uint32Array(count);
  for (let i = 0; i < count; i++) indices[i] = Math.floor(random() * bound);
  return indices;
}

/** `10_000` → `"10k"`, `1_000_000` → `"1M"`. */
export function shortCount(count: number): string {
  if (count >= 1_000_000 && count % 1_000_000 === 0) return `${count / 1_000_000}M`;
  if (count >= 1000 && count % 1000 === 0) return `${count / 1000}k`;
  return String(count);
}

const LARGE = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const SMALL = new Intl.NumberFormat("en-US", { maximumSignificantDigits: 3 });

/** Whole numbers with separators from 1,000 up; three significant digits below. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return value > 0 ? "∞" : String(value);
  return Math.abs(value) >= 1000 ? LARGE.format(value) : SMALL.format(value);
}

function formatTimesBetter(row: Row): string {
  const { timesBetter } = row;
  if (!Number.isFinite(timesBetter)) return "∞";
  const digits = timesBetter >= 100 ? 0 : timesBetter >= 10 ? 1 : 2;
  return `${row.timesBetterIsLowerBound ? "≥ " : ""}${timesBetter.toFixed(digits)}×`;
}

/** The column that carries the ratio; its header states the direction. */
export const TIMES_BETTER_HEADER = "ours vs baseline (× better; >1 = ours wins)";

/** The report as one markdown table, columns padded for reading in a terminal. */
export function formatTable(rows: readonly Row[]): string {
  const header = [
    "group",
    "benchmark",
    "unit",
    "ours (median)",
    "baseline (median)",
    "baseline",
    TIMES_BETTER_HEADER,
    "runs",
  ];
  const right = [false, false, false, true, true, false, true, true];
  const body = rows.map((row) => [
    row.group,
    row.name,
    `${row.unit} (${row.better} is better)`,
    formatNumber(row.ours.median),
    formatNumber(row.baseline.median),
    row.baselineLabel,
    formatTimesBetter(row),
    String(row.runs),
  ]);
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...body.map((line) => (line[column] as string).length)),
  );
  const render = (cells: readonly string[]) =>
    `| ${cells
      .map((cell, column) => {
        const width = widths[column] as number;
        return right[column] ? cell.padStart(width) : cell.padEnd(width);
      })
      .join(" | ")} |`;
  const rule = `|${widths.map((width, column) => (right[column] ? `${"-".repeat(width + 1)}:` : "-".repeat(width + 2))).join("|")}|`;
  return [render(header), rule, ...body.map(render)].join("\n");
}

/** Where and how the numbers were taken, stored beside them. */
export function describeEnvironment(): Record<string, unknown> {
  const cpuList = cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: platform(),
    arch: arch(),
    cpu: cpuList[0]?.model ?? "unknown",
    cpuCount: cpuList.length,
    totalMemoryBytes: totalmem(),
    execArgv: process.execArgv,
  };
}

/** Writes `report` as `<directory>/<timestamp>.json` and returns the path. */
export function writeJsonReport(directory: string, startedAt: Date, report: unknown): string {
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
