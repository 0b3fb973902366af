/**
 * Redis memory per session at 100k sessions with initialize-params metadata: `MEMORY USAGE` of a
 * sample of session hashes, the due index's share (`MEMORY USAGE` of every bucket, summed, per
 * session), and the `used_memory` delta per session. Baseline: the whole record as one plain
 * `SET key <json> PX ttl` string per session, measured the same way.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import {
  type BenchmarkGroup,
  compare,
  progress,
  type RepeatOptions,
  type Row,
  repeat,
  shortCount,
} from "../harness.js";
import {
  INITIALIZE_PARAMS,
  INITIALIZE_PARAMS_JSON,
  RAW_KEY_PREFIX,
  rawSessionJson,
  STORE_PREFIX,
  TTL_MS,
  withRedis,
} from "./fixtures.js";
import { populate } from "./load.js";
import { memoryUsage, scanKeys, usedMemory } from "./server-stats.js";

const GROUP = "redis/memory";
const SESSIONS = 100_000;
/** Session keys whose `MEMORY USAGE` is averaged. */
const SAMPLE = 1000;
const POPULATE_CONCURRENCY = 512;
const PIPELINE_CHUNK = 1000;
/** Memory figures barely move between runs, and a warm-up would only load the scripts. */
const REPEAT: RepeatOptions = { warmup: 0, runs: 3 };
/** The store's keys; `SCAN … TYPE` tells session hashes from due indexes. */
const STORE_PATTERN = `{${STORE_PREFIX}:*`;

interface Footprint {
  /** Mean `MEMORY USAGE` of a session key, over SAMPLE keys. */
  readonly keyBytes: number;
  /** `MEMORY USAGE` of every due-index bucket, summed, per session; 0 for the baseline. */
  readonly indexBytes: number;
  /** `used_memory` after − before, per session. */
  readonly usedBytes: number;
}

async function meanMemoryUsage(admin: Redis, keys: readonly string[]): Promise<number> {
  const sizes = await Promise.all(keys.map((key) => memoryUsage(admin, key)));
  return sizes.reduce((sum, size) => sum + size, 0) / sizes.length;
}

async function measureStore(admin: Redis, create: () => Promise<string>): Promise<Footprint> {
  await admin.flushall("SYNC");
  const before = await usedMemory(admin);
  await populate(SESSIONS, POPULATE_CONCURRENCY, create);
  const after = await usedMemory(admin);
  const sessionKeys = await scanKeys(admin, STORE_PATTERN, "hash", SAMPLE);
  const buckets = await scanKeys(admin, STORE_PATTERN, "zset");
  if (sessionKeys.length !== SAMPLE || buckets.length === 0) {
    throw new Error(`Found ${sessionKeys.length} session keys and ${buckets.length} due indexes`);
  }
  const indexSizes = await Promise.all(buckets.map((key) => memoryUsage(admin, key)));
  return {
    keyBytes: await meanMemoryUsage(admin, sessionKeys),
    indexBytes: indexSizes.reduce((sum, size) => sum + size, 0) / SESSIONS,
    usedBytes: (after - before) / SESSIONS,
  };
}

async function measureStrings(admin: Redis, client: Redis): Promise<Footprint> {
  await admin.flushall("SYNC");
  const before = await usedMemory(admin);
  const now = Date.now();
  const ids: string[] = [];
  for (let done = 0; done < SESSIONS; done += PIPELINE_CHUNK) {
    const pipeline = client.pipeline();
    for (let i = 0; i < PIPELINE_CHUNK; i++) {
      const id = randomUUID();
      ids.push(id);
      pipeline.set(`${RAW_KEY_PREFIX}${id}`, rawSessionJson(id, now), "PX", TTL_MS);
    }
    await pipeline.exec();
  }
  const after = await usedMemory(admin);
  if ((await admin.dbsize()) !== SESSIONS) throw new Error("The baseline did not store every key");
  const sample = ids.slice(0, SAMPLE).map((id) => `${RAW_KEY_PREFIX}${id}`);
  return {
    keyBytes: await meanMemoryUsage(admin, sample),
    indexBytes: 0,
    usedBytes: (after - before) / SESSIONS,
  };
}

/** What the table cannot show: how Redis encodes a session hash, and why. */
async function describeEncoding(admin: Redis): Promise<void> {
  const [key] = await scanKeys(admin, STORE_PATTERN, "hash", 1);
  if (key === undefined) return;
  const encoding = await admin.object("ENCODING", key);
  const limit = await admin.config("GET", "hash-max-listpack-value");
  progress(
    `  session hash encoding: ${String(encoding)} (metadata field ${Buffer.byteLength(INITIALIZE_PARAMS_JSON)} B; server ${JSON.stringify(limit)})`,
  );
}

export const redisMemory: BenchmarkGroup = {
  name: GROUP,
  run: () =>
    withRedis(async (redis) => {
      const admin = redis.connect();
      const raw = redis.connect();
      // One manager for every run: its connections exist before each "before" reading.
      const { manager } = await redis.manager(redis.connect());
      const create = async () => (await manager.create(INITIALIZE_PARAMS)).id;
      await create(); // loads the scripts, which used_memory would otherwise count once
      const label = `${shortCount(SESSIONS)} sessions`;
      const ours = await repeat(`store memory @ ${label}`, REPEAT, () =>
        measureStore(admin, create),
      );
      await describeEncoding(admin);
      const baseline = await repeat(`plain SET strings memory @ ${label}`, REPEAT, () =>
        measureStrings(admin, raw),
      );
      const index = ours.map((run) => run.indexBytes.toFixed(1)).join(", ");
      progress(`  due index per session (MEMORY USAGE of the buckets / sessions): ${index} B`);

      const row = (name: string, oursBytes: number[], baselineBytes: number[]): Row =>
        compare(
          {
            group: GROUP,
            name: `${name} @ ${label}, initialize-params metadata`,
            unit: "bytes/session",
            better: "lower",
            baselineLabel: "plain SET <record JSON> PX string per session",
          },
          oursBytes,
          baselineBytes,
        );
      return [
        row(
          `MEMORY USAGE of a session key (mean of ${shortCount(SAMPLE)})`,
          ours.map((run) => run.keyBytes),
          baseline.map((run) => run.keyBytes),
        ),
        row(
          "MEMORY USAGE of a session key + its due-index share",
          ours.map((run) => run.keyBytes + run.indexBytes),
          baseline.map((run) => run.keyBytes),
        ),
        row(
          "INFO used_memory delta per session",
          ours.map((run) => run.usedBytes),
          baseline.map((run) => run.usedBytes),
        ),
      ];
    }),
};
