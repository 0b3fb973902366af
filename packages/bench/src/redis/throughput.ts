/**
 * touch, get and create per second through `SessionManager` + `RedisSessionStore`, at 1, 64 and
 * 512 concurrent operations from one process, against raw ioredis doing the nearest single
 * command (PEXPIRE, GET, SET … PX) on the same server over a client of its own; and against
 * the machine's ceiling, `redis-benchmark`, run out of process. Then, in an untimed pass, how
 * many round trips and how many Redis commands each operation costs.
 */
import { randomUUID } from "node:crypto";
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
import {
  INITIALIZE_PARAMS,
  RAW_KEY_PREFIX,
  type RedisManager,
  rawSessionJson,
  TTL_MS,
  withRedis,
} from "./fixtures.js";
import { type Lookup, lookupsPerSecond, populate, runCount } from "./load.js";
import { type RedisBenchmarkResult, runRedisBenchmark } from "./redis-benchmark.js";
import {
  commandStats,
  commandStatsDelta,
  countClientCommands,
  describePerOperation,
} from "./server-stats.js";

const GROUP = "redis/throughput";
const CONCURRENCIES = [1, 64, 512] as const;
const OPERATIONS = ["touch", "get", "create"] as const;
/** Live sessions (and raw keys) that get and touch pick from. */
const LIVE = 10_000;
const RUN_MS = 500;
const REPEAT: RepeatOptions = { warmup: 1, runs: 3 };
/** Operations in the untimed pass that counts commands. */
const COUNTED = 1000;
const COUNTED_CONCURRENCY = 64;
const POPULATE_CONCURRENCY = 512;
const SEED = 0x5e55;
const PICKS = 1 << 18;

type Operation = (typeof OPERATIONS)[number];

const RAW_COMMAND: Record<Operation, string> = {
  touch: "PEXPIRE",
  get: "GET",
  create: "SET … PX",
};

function oursCalls({ manager }: RedisManager, ids: readonly string[]): Record<Operation, Lookup> {
  const picks = randomIndices(PICKS, ids.length, SEED);
  const idAt = (sequence: number) => ids[picks[sequence % PICKS] as number] as string;
  return {
    touch: async (sequence) => (await manager.touch(idAt(sequence))) !== undefined,
    get: async (sequence) => (await manager.get(idAt(sequence))) !== undefined,
    create: async () => {
      await manager.create(INITIALIZE_PARAMS);
      return true;
    },
  };
}

function rawCalls(client: Redis, keys: readonly string[]): Record<Operation, Lookup> {
  const picks = randomIndices(PICKS, keys.length, SEED);
  const keyAt = (sequence: number) => keys[picks[sequence % PICKS] as number] as string;
  return {
    touch: async (sequence) => (await client.pexpire(keyAt(sequence), TTL_MS)) === 1,
    get: async (sequence) => (await client.get(keyAt(sequence))) !== null,
    create: async () => {
      const id = randomUUID();
      return (
        (await client.set(
          `${RAW_KEY_PREFIX}${id}`,
          rawSessionJson(id, Date.now()),
          "PX",
          TTL_MS,
        )) === "OK"
      );
    },
  };
}

interface CommandCounts {
  /** Requests the client wrote, per operation. */
  readonly roundTrips: number;
  /** Commands the server executed, per operation, script-internal ones included. */
  readonly executed: number;
  /** Microseconds of Redis's one thread per operation. */
  readonly redisMicros: number;
}

/** Untimed: COUNTED operations at COUNTED_CONCURRENCY, counted on the client and the server. */
async function countCommands(admin: Redis, call: Lookup, what: string): Promise<CommandCounts> {
  const before = await commandStats(admin);
  const client = await countClientCommands(() =>
    runCount(COUNTED, COUNTED_CONCURRENCY, async (sequence) => {
      await call(sequence);
    }),
  );
  const server = commandStatsDelta(before, await commandStats(admin));
  // A script's usec includes the commands it ran, so only what the client sent is summed.
  let usec = 0;
  for (const name of client.calls.keys()) usec += server.usec.get(name) ?? 0;
  progress(
    `  ${what}: sent per op: ${describePerOperation(client.calls, COUNTED)}; ` +
      `executed per op: ${describePerOperation(server.calls, COUNTED)}`,
  );
  return {
    roundTrips: client.total / COUNTED,
    executed: server.total / COUNTED,
    redisMicros: usec / COUNTED,
  };
}

export const redisThroughput: BenchmarkGroup = {
  name: GROUP,
  run: () =>
    withRedis(async (redis) => {
      const admin = redis.connect();
      const raw = redis.connect();
      const ours = await redis.manager(redis.connect());

      progress(
        `${GROUP}: populating ${shortCount(LIVE)} sessions and ${shortCount(LIVE)} raw keys`,
      );
      const ids = await populate(
        LIVE,
        POPULATE_CONCURRENCY,
        async () => (await ours.manager.create(INITIALIZE_PARAMS)).id,
      );
      const now = Date.now();
      const rawIds = Array.from({ length: LIVE }, () => randomUUID());
      const pipeline = raw.pipeline();
      for (const id of rawIds) {
        pipeline.set(`${RAW_KEY_PREFIX}${id}`, rawSessionJson(id, now), "PX", TTL_MS);
      }
      await pipeline.exec();
      const rawKeys = rawIds.map((id) => `${RAW_KEY_PREFIX}${id}`);

      const oursCall = oursCalls(ours, ids);
      const rawCall = rawCalls(raw, rawKeys);
      const samples = new Map<string, { ours: number[]; baseline: number[] }>();
      for (const operation of OPERATIONS) {
        for (const concurrency of CONCURRENCIES) {
          const label = `${operation} @ c=${concurrency}`;
          // Each run times ours, then the baseline: on a shared machine, interleaving spreads
          // slow drift over both sides instead of charging it to one.
          const pairs = await repeat(
            `${label}: manager, raw ${RAW_COMMAND[operation]}`,
            REPEAT,
            async () => ({
              ours: await lookupsPerSecond(
                concurrency,
                RUN_MS,
                oursCall[operation],
                `manager ${label}`,
              ),
              baseline: await lookupsPerSecond(
                concurrency,
                RUN_MS,
                rawCall[operation],
                `raw ${label}`,
              ),
            }),
          );
          samples.set(label, {
            ours: pairs.map((pair) => pair.ours),
            baseline: pairs.map((pair) => pair.baseline),
          });
        }
      }

      progress(`${GROUP}: counting commands, ${COUNTED} operations each`);
      const counts = new Map<Operation, { ours: CommandCounts; baseline: CommandCounts }>();
      for (const operation of OPERATIONS) {
        counts.set(operation, {
          ours: await countCommands(admin, oursCall[operation], `manager ${operation}`),
          baseline: await countCommands(admin, rawCall[operation], `raw ${RAW_COMMAND[operation]}`),
        });
      }

      const ceilings = new Map<number, RedisBenchmarkResult>();
      for (const concurrency of CONCURRENCIES) {
        const started = Date.now();
        const result = await runRedisBenchmark(redis.server.host, redis.server.port, concurrency);
        progress(
          `  redis-benchmark -c ${concurrency}: GET ${Math.round(result.get)}/s, SET ${Math.round(result.set)}/s (${((Date.now() - started) / 1000).toFixed(2)} s)`,
        );
        ceilings.set(concurrency, result);
      }

      const rows: Row[] = [];
      for (const operation of OPERATIONS) {
        for (const concurrency of CONCURRENCIES) {
          const label = `${operation} @ c=${concurrency}`;
          const measured = samples.get(label);
          if (measured === undefined) throw new Error(`No samples for ${label}`);
          rows.push(
            compare(
              {
                group: GROUP,
                name: `${label}, ${shortCount(LIVE)}+ live`,
                unit: "ops/s",
                better: "higher",
                baselineLabel: `raw ioredis ${RAW_COMMAND[operation]}, same server, own client`,
              },
              measured.ours,
              measured.baseline,
            ),
          );
        }
      }
      for (const operation of OPERATIONS) {
        for (const concurrency of CONCURRENCIES) {
          const label = `${operation} @ c=${concurrency}`;
          const measured = samples.get(label);
          const ceiling = ceilings.get(concurrency);
          if (measured === undefined || ceiling === undefined)
            throw new Error(`No ceiling for ${label}`);
          const test = operation === "get" ? "GET" : "SET";
          rows.push(
            compare(
              {
                group: GROUP,
                name: `${label} vs machine ceiling`,
                unit: "ops/s",
                better: "higher",
                baselineLabel: `redis-benchmark ${test} -c ${concurrency} -P 1 (out of process, 1 run)`,
              },
              measured.ours,
              [operation === "get" ? ceiling.get : ceiling.set],
            ),
          );
        }
      }
      for (const [metric, unit, describe] of [
        [
          "roundTrips",
          "round trips/op",
          (operation: Operation) =>
            `round trips per ${operation} (requests written; ioredis diagnostics channel)`,
        ],
        [
          "executed",
          "commands/op",
          (operation: Operation) =>
            `Redis commands per ${operation} (total_commands_processed; script-internal included)`,
        ],
        [
          "redisMicros",
          "µs/op",
          (operation: Operation) => `Redis time per ${operation} (INFO commandstats usec)`,
        ],
      ] as const) {
        for (const operation of OPERATIONS) {
          const count = counts.get(operation);
          if (count === undefined) throw new Error(`No command counts for ${operation}`);
          rows.push(
            compare(
              {
                group: GROUP,
                name: describe(operation),
                unit,
                better: "lower",
                baselineLabel: `raw ioredis ${RAW_COMMAND[operation]}`,
              },
              [count.ours[metric]],
              [count.baseline[metric]],
            ),
          );
        }
      }
      return rows;
    }),
};
