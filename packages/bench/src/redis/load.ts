/**
 * Load from one process: `concurrency` workers, each awaiting its operations one after another,
 * as concurrent requests on one server instance would. Every operation gets a sequence number,
 * so callers can pick ids from a seeded sequence.
 */
import { performance } from "node:perf_hooks";
import { collectGarbage, opsPerSecond } from "../harness.js";

/**
 * Runs `operation` from `concurrency` workers until `durationMs` has passed, and returns the
 * throughput. Workers finish the operation they are in, so the elapsed time runs until the last
 * one is done and every counted operation is complete.
 */
export async function opsPerSecondFor(
  concurrency: number,
  durationMs: number,
  operation: (sequence: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  const end = started + durationMs;
  const worker = async () => {
    while (performance.now() < end) await operation(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return opsPerSecond(next, performance.now() - started);
}

/** Runs `operation` exactly `count` times from `concurrency` workers. */
export async function runCount(
  count: number,
  concurrency: number,
  operation: (sequence: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await operation(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** Creates `count` sessions with `create` from `concurrency` workers; returns their ids. */
export async function populate(
  count: number,
  concurrency: number,
  create: () => Promise<string>,
): Promise<string[]> {
  const ids: string[] = [];
  await runCount(count, concurrency, async () => {
    ids.push(await create());
  });
  return ids;
}

/** One lookup, given its sequence number; resolves to whether it found its session. */
export type Lookup = (sequence: number) => Promise<boolean>;

/**
 * {@link opsPerSecondFor} after a full GC, for lookups that must all find their session: a
 * miss means the bench measured the wrong thing, so the run fails.
 */
export async function lookupsPerSecond(
  concurrency: number,
  durationMs: number,
  lookup: Lookup,
  what: string,
): Promise<number> {
  collectGarbage();
  let misses = 0;
  const rate = await opsPerSecondFor(concurrency, durationMs, async (sequence) => {
    if (!(await lookup(sequence))) misses++;
  });
  if (misses > 0) throw new Error(`${what}: ${misses} operations found no session`);
  return rate;
}
