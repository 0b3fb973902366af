import type { SessionScripts } from "./scripts.js";

export interface SweepOutcome {
  /** Ids whose expiry this instance claimed: it runs their expiration handler. */
  readonly claimed: readonly string[];
  /** Some bucket had a full batch due: sweep again at once rather than at the next deadline. */
  readonly saturated: boolean;
  /** The earliest deadline still waiting, as far as the sweep read; undefined when none. */
  readonly nextDeadline: number | undefined;
}

/**
 * One sweep over every bucket, all buckets at once: read the earliest batch of each due index,
 * then claim the due ids in one script per bucket. Redis expires idle keys lazily (with 20k live
 * keys, expired events came 48 s late at p50), so the sweep, not the keyspace event, is what
 * bounds lateness. It also recovers every event lost while a subscriber was disconnected.
 */
export async function sweepBuckets(
  scripts: SessionScripts,
  buckets: number,
  now: number,
  batchSize: number,
): Promise<SweepOutcome> {
  const perBucket = await Promise.all(
    Array.from({ length: buckets }, async (_, bucket) => {
      const { ids, nextDeadline } = await scripts.due(bucket, now, batchSize);
      const claimed = await scripts.claim(bucket, ids, now);
      return { claimed, saturated: ids.length === batchSize, nextDeadline };
    }),
  );
  const deadlines = perBucket.flatMap(({ nextDeadline }) =>
    nextDeadline === undefined ? [] : [nextDeadline],
  );
  return {
    claimed: perBucket.flatMap(({ claimed }) => claimed),
    saturated: perBucket.some(({ saturated }) => saturated),
    nextDeadline: deadlines.length === 0 ? undefined : Math.min(...deadlines),
  };
}
