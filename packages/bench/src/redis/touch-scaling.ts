/**
 * Touch cost as the store grows: touches per second through one `SessionManager` +
 * `RedisSessionStore` at 10k, 100k and 1M live sessions, concurrency 64. A touch is one script
 * doing O(1) hash work and one O(log n) ZADD, so the rate should stay flat. Baseline: raw
 * ioredis `PEXPIRE` on the same session keys at the same sizes, over a client of its own.
 */
import type { Redis } from "ioredis";
import {
  type BenchmarkGroup,
  compare,
  progress,
  type RepeatOptions,
  type Row,
  randomIndices,
  repeat,
  shortCount,
} from "../harness.js";
import { INITIALIZE_PARAMS, STORE_PREFIX, TTL_MS, withRedis } from "./fixtures.js";
import { type Lookup, lookupsPerSecond, populate } from "./load.js";
import { scanKeys } from "./server-stats.js";

const GROUP = "redis/touch-scaling";
const SIZES = [10_000, 100_000, 1_000_000] as const;
const CONCURRENCY = 64;
const RUN_MS = 500;
const REPEAT: RepeatOptions = { warmup: 1, runs: 3 };
const POPULATE_CONCURRENCY = 512;
const SEED = 0x5ca1e;
const PICKS = 1 << 18;
const STORE_PATTERN = `{${STORE_PREFIX}:*`;

/** A lookup of a seeded random pick from `items`. */
function pickFrom<T>(items: readonly T[], use: (item: T) => Promise<boolean>): Lookup {
  const picks = randomIndices(PICKS, items.length, SEED);
  return (sequence) => use(items[picks[sequence % PICKS] as number] as T);
}

export const redisTouchScaling: BenchmarkGroup = {
  name: GROUP,
  run: () =>
    withRedis(async (redis) => {
      const admin = redis.connect();
      const raw: Redis = redis.connect();
      const { manager } = await redis.manager(redis.connect());
      const create = async () => (await manager.create(INITIALIZE_PARAMS)).id;
      const ids: string[] = [];
      const rows: Row[] = [];
      const medians: number[] = [];
      for (const size of SIZES) {
        const started = Date.now();
        for (const id of await populate(size - ids.length, POPULATE_CONCURRENCY, create)) {
          ids.push(id);
        }
        // The baseline touches the very same keys; SCAN finds their names without our key code.
        const keys = await scanKeys(admin, STORE_PATTERN, "hash");
        if (keys.length !== size)
          throw new Error(`Found ${keys.length} session keys, expected ${size}`);
        progress(
          `${GROUP}: ${shortCount(size)} live (populated and scanned in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
        );

        const label = `touch @ ${shortCount(size)} live, c=${CONCURRENCY}`;
        const touch = pickFrom(ids, async (id) => (await manager.touch(id)) !== undefined);
        const pexpire = pickFrom(keys, async (key) => (await raw.pexpire(key, TTL_MS)) === 1);
        // Ours, then the baseline, in every run: interleaving spreads drift over both sides.
        const pairs = await repeat(`${label}: manager, raw PEXPIRE`, REPEAT, async () => ({
          ours: await lookupsPerSecond(CONCURRENCY, RUN_MS, touch, `manager ${label}`),
          baseline: await lookupsPerSecond(CONCURRENCY, RUN_MS, pexpire, `raw PEXPIRE ${label}`),
        }));
        const row = compare(
          {
            group: GROUP,
            name: label,
            unit: "ops/s",
            better: "higher",
            baselineLabel: "raw ioredis PEXPIRE on the same keys, own client",
          },
          pairs.map((pair) => pair.ours),
          pairs.map((pair) => pair.baseline),
        );
        medians.push(row.ours.median);
        rows.push(row);
      }
      const [smallest] = medians;
      const largest = medians[medians.length - 1];
      if (smallest !== undefined && largest !== undefined) {
        progress(
          `  touch rate at ${shortCount(SIZES[SIZES.length - 1] as number)} / at ${shortCount(SIZES[0])}: ${(largest / smallest).toFixed(2)}`,
        );
      }
      return rows;
    }),
};
