import type { SessionScripts } from "./scripts.js";

export interface SweepOutcome {
  /** Ids whose expiry this instance claimed: it runs their expiration handler. */
  readonly claimed: readonly string[];
  /** Some bucket had a full batch due: sweep again now rather than after the interval. */
  readonly saturated: boolean;
}

/**
 * One sweep over every bucket, all buckets at once: read a bounded batch of due ids, then claim
 * them in one script per bucket. Redis expires idle keys lazily (with 20k live keys, expired
 * events came 48 s late at p50), so the sweep, not the keyspace event, is what bounds lateness.
 * It also recovers every event lost while a subscriber was disconnected.
 */
export async function sweepBuckets(
  scripts: SessionScripts,
  buckets: number,
  now: number,
  batchSize: number,
): Promise<SweepOutcome> {
  const perBucket = await Promise.all(
    Array.from({ length: buckets }, async (_, bucket) => {
      const due = await scripts.due(bucket, now, batchSize);
      return {
        claimed: await scripts.claim(bucket, due, now),
        saturated: due.length === batchSize,
      };
    }),
  );
  return {
    claimed: perBucket.flatMap((bucket) => bucket.claimed),
    saturated: perBucket.some((bucket) => bucket.saturated),
  };
}
