/**
 * The session event log of `RedisSessionStore.relay`, which keeps every SSE event of a
 * `resumable` MCP handler: appends and replays per second, at 1 and 32 in flight, against raw
 * ioredis doing the nearest single command on the same server (XADD with the same trimming;
 * XRANGE after a position), and against `redis-benchmark` sending those same commands from out
 * of process. Then, in an untimed pass, what each operation costs Redis's one thread.
 *
 * - append: `member.publish(session, stream, message, { store: true })`, one script that checks
 *   the session, XADDs, moves the log's expiry to the session's and looks for a stream holder;
 * - replay: `member.hold(session, stream, { after })`, one script that checks the session and the
 *   position, records the holder and reads the events after it (what `Last-Event-ID` costs).
 */
import { randomUUID } from "node:crypto";
import type { RelayMember, RelayMessage } from "@mcp-sessions/session-core";
import type { Redis } from "ioredis";
import {
  type BenchmarkGroup,
  compare,
  progress,
  QUICK,
  type RepeatOptions,
  type Row,
  repeat,
} from "../harness.js";
import { INITIALIZE_PARAMS, type RedisManager, withRedis } from "./fixtures.js";
import { type Lookup, lookupsPerSecond, runCount } from "./load.js";
import { runRedisBenchmarkCommand } from "./redis-benchmark.js";
import { commandStats, commandStatsDelta, describePerOperation } from "./server-stats.js";

const GROUP = "redis/event-log";
const CONCURRENCIES = [1, 32] as const;
/** Events one replay returns. */
const REPLAYED = [10, 100] as const;
/** Sessions (and raw keys) the operations rotate over, one per worker at the most. */
const SESSIONS = 32;
/** The store's `maxEventsPerSession` default, and the raw XADD's `MAXLEN ~`. */
const MAX_EVENTS = 1_000;
const RUN_MS = QUICK ? 250 : 500;
const REPEAT: RepeatOptions = QUICK ? { warmup: 1, runs: 1 } : { warmup: 1, runs: 5 };
/** Operations in the untimed pass that reads Redis's time per operation. */
const COUNTED = 1_000;
const COUNTED_CONCURRENCY = 32;
/** redis-benchmark requests per test: fewer at one connection, where each is a round trip. */
const CEILING_REQUESTS = QUICK ? { 1: 5_000, 32: 20_000 } : { 1: 20_000, 32: 50_000 };
/** The SDK names a POST's stream with a UUID; every event of the bench is on one. */
const STREAM_ID = randomUUID();
/** A server's progress token for a request of its own, as the fleet routes it. */
const PROGRESS_TOKEN = `${randomUUID()}.7`;
const RAW_LOG_PREFIX = "bench-raw:ev:";

type Operation = "append" | `replay ${(typeof REPLAYED)[number]}`;

/** A typical SSE event of a long tool call: its progress, about 200 bytes of JSON. */
function progressNotification(sequence: number): RelayMessage {
  return {
    jsonrpc: "2.0",
    method: "notifications/progress",
    params: {
      progressToken: PROGRESS_TOKEN,
      progress: sequence,
      total: 1_000_000,
      message: `Processed ${sequence} of 1000000 items`,
    },
  };
}

/** The sessions of one side and, for replays, the log positions of their first events. */
interface Logs {
  readonly keys: readonly string[];
  /** Per session, the position of every event stored, oldest first. */
  readonly positions: readonly (readonly string[])[];
}

async function oursLogs(ours: RedisManager, member: RelayMember, events: number): Promise<Logs> {
  const keys: string[] = [];
  const positions: string[][] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const { id } = await ours.manager.create(INITIALIZE_PARAMS);
    const stored: string[] = [];
    for (let event = 0; event < events; event++) {
      const position = await member.publish(id, STREAM_ID, progressNotification(event), {
        store: true,
      });
      if (position === undefined) throw new Error("publish stored nothing: the session is gone");
      stored.push(position);
    }
    keys.push(id);
    positions.push(stored);
  }
  return { keys, positions };
}

async function rawLogs(raw: Redis, events: number): Promise<Logs> {
  const keys: string[] = [];
  const positions: string[][] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const key = `${RAW_LOG_PREFIX}${randomUUID()}`;
    const stored: string[] = [];
    for (let event = 0; event < events; event++) {
      stored.push(await rawAppend(raw, key, event));
    }
    keys.push(key);
    positions.push(stored);
  }
  return { keys, positions };
}

async function rawAppend(raw: Redis, key: string, sequence: number): Promise<string> {
  const id = await raw.xadd(key, ...xaddArguments(JSON.stringify(progressNotification(sequence))));
  if (id === null) throw new Error("XADD added nothing");
  return id;
}

/** XADD's arguments after the key, as publishEvent.lua sends them. */
function xaddArguments(json: string): string[] {
  return ["MAXLEN", "~", String(MAX_EVENTS), "*", "s", STREAM_ID, "m", json];
}

/** The position after which `count` events of a log follow. */
function after(logs: Logs, session: number, count: number): string {
  const positions = logs.positions[session] as readonly string[];
  return positions[positions.length - 1 - count] as string;
}

function oursCalls(member: RelayMember, appends: Logs, replays: Logs): Record<Operation, Lookup> {
  const replay =
    (count: number): Lookup =>
    async (sequence) => {
      const session = sequence % SESSIONS;
      const events = await member.hold(replays.keys[session] as string, STREAM_ID, {
        after: after(replays, session, count),
      });
      return events?.length === count;
    };
  return {
    append: async (sequence) =>
      (await member.publish(
        appends.keys[sequence % SESSIONS] as string,
        STREAM_ID,
        progressNotification(sequence),
        { store: true },
      )) !== undefined,
    "replay 10": replay(10),
    "replay 100": replay(100),
  };
}

function rawCalls(raw: Redis, appends: Logs, replays: Logs): Record<Operation, Lookup> {
  const replay =
    (count: number): Lookup =>
    async (sequence) => {
      const session = sequence % SESSIONS;
      const entries = await raw.xrange(
        replays.keys[session] as string,
        `(${after(replays, session, count)}`,
        "+",
      );
      return entries.length === count;
    };
  return {
    append: async (sequence) => {
      await rawAppend(raw, appends.keys[sequence % SESSIONS] as string, sequence);
      return true;
    },
    "replay 10": replay(10),
    "replay 100": replay(100),
  };
}

const OPERATIONS: readonly Operation[] = ["append", "replay 10", "replay 100"];

function describeOperation(operation: Operation): string {
  return operation === "append"
    ? "append"
    : `replay of ${operation.slice("replay ".length)} events`;
}

function rawCommand(operation: Operation): string {
  return operation === "append" ? `XADD MAXLEN ~ ${MAX_EVENTS}` : "XRANGE key (after +";
}

/**
 * Untimed: COUNTED operations, and the microseconds Redis's thread spent on the commands that
 * `sent` names (a script's usec includes the commands it ran), per operation.
 */
async function redisMicrosPerOperation(
  admin: Redis,
  call: Lookup,
  sent: readonly string[],
  what: string,
): Promise<number> {
  const before = await commandStats(admin);
  await runCount(COUNTED, COUNTED_CONCURRENCY, async (sequence) => {
    if (!(await call(sequence))) throw new Error(`${what}: an operation found nothing`);
  });
  const delta = commandStatsDelta(before, await commandStats(admin));
  progress(`  ${what}: executed per op: ${describePerOperation(delta.calls, COUNTED)}`);
  let usec = 0;
  for (const name of sent) usec += delta.usec.get(name) ?? 0;
  return usec / COUNTED;
}

export const redisEventLog: BenchmarkGroup = {
  name: GROUP,
  run: () =>
    withRedis(async (redis) => {
      const admin = redis.connect();
      const raw = redis.connect();
      const ours = await redis.manager(redis.connect());
      const member = ours.store.relay.join({ message() {}, event() {} });
      try {
        await member.ready;
        const bytes = Buffer.byteLength(JSON.stringify(progressNotification(500_000)));
        progress(`${GROUP}: ${SESSIONS} sessions per side, events of ${bytes} bytes of JSON`);
        const longest = Math.max(...REPLAYED) + 1;
        const appends = { ours: await oursLogs(ours, member, 0), raw: await rawLogs(raw, 0) };
        const replays = {
          ours: await oursLogs(ours, member, longest),
          raw: await rawLogs(raw, longest),
        };
        const oursCall = oursCalls(member, appends.ours, replays.ours);
        const rawCall = rawCalls(raw, appends.raw, replays.raw);

        const samples = new Map<string, { ours: number[]; baseline: number[] }>();
        for (const operation of OPERATIONS) {
          for (const concurrency of CONCURRENCIES) {
            const label = `${describeOperation(operation)} @ c=${concurrency}`;
            // Each run times ours, then the baseline, as redis/throughput does.
            const pairs = await repeat(
              `${label}: relay member, raw ${rawCommand(operation)}`,
              REPEAT,
              async () => ({
                ours: await lookupsPerSecond(
                  concurrency,
                  RUN_MS,
                  oursCall[operation],
                  `member ${label}`,
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

        progress(`${GROUP}: Redis time per operation, ${COUNTED} operations each`);
        const micros = new Map<Operation, { ours: number; baseline: number }>();
        for (const operation of OPERATIONS) {
          micros.set(operation, {
            ours: await redisMicrosPerOperation(
              admin,
              oursCall[operation],
              ["evalsha", "eval"],
              `member ${operation}`,
            ),
            baseline: await redisMicrosPerOperation(
              admin,
              rawCall[operation],
              [operation === "append" ? "xadd" : "xrange"],
              `raw ${rawCommand(operation)}`,
            ),
          });
        }

        const ceilingKey = `${RAW_LOG_PREFIX}ceiling`;
        const ceilingCommand = (operation: Operation): string[] => {
          if (operation === "append") {
            return ["XADD", ceilingKey, ...xaddArguments(JSON.stringify(progressNotification(1)))];
          }
          const count = Number(operation.slice("replay ".length));
          return ["XRANGE", replays.raw.keys[0] as string, `(${after(replays.raw, 0, count)}`, "+"];
        };
        const ceilings = new Map<string, number>();
        for (const operation of OPERATIONS) {
          for (const concurrency of CONCURRENCIES) {
            const started = Date.now();
            const rate = await runRedisBenchmarkCommand(
              redis.server.host,
              redis.server.port,
              concurrency,
              CEILING_REQUESTS[concurrency],
              ceilingCommand(operation),
            );
            progress(
              `  redis-benchmark -c ${concurrency} ${rawCommand(operation)}: ${Math.round(rate)}/s (${((Date.now() - started) / 1000).toFixed(2)} s)`,
            );
            ceilings.set(`${operation} @ c=${concurrency}`, rate);
          }
        }

        const rows: Row[] = [];
        for (const operation of OPERATIONS) {
          for (const concurrency of CONCURRENCIES) {
            const label = `${describeOperation(operation)} @ c=${concurrency}`;
            const measured = samples.get(label);
            if (measured === undefined) throw new Error(`No samples for ${label}`);
            rows.push(
              compare(
                {
                  group: GROUP,
                  name: `${label}, ${bytes} B events`,
                  unit: "ops/s",
                  better: "higher",
                  baselineLabel: `raw ioredis ${rawCommand(operation)}, same server, own client`,
                },
                measured.ours,
                measured.baseline,
              ),
            );
          }
        }
        for (const operation of OPERATIONS) {
          for (const concurrency of CONCURRENCIES) {
            const label = `${describeOperation(operation)} @ c=${concurrency}`;
            const measured = samples.get(label);
            const ceiling = ceilings.get(`${operation} @ c=${concurrency}`);
            if (measured === undefined || ceiling === undefined) {
              throw new Error(`No ceiling for ${label}`);
            }
            rows.push(
              compare(
                {
                  group: GROUP,
                  name: `${label} vs machine ceiling`,
                  unit: "ops/s",
                  better: "higher",
                  baselineLabel: `redis-benchmark ${rawCommand(operation)} -c ${concurrency} -P 1 (out of process, 1 run)`,
                },
                measured.ours,
                [ceiling],
              ),
            );
          }
        }
        for (const operation of OPERATIONS) {
          const measured = micros.get(operation);
          if (measured === undefined) throw new Error(`No Redis time for ${operation}`);
          rows.push(
            compare(
              {
                group: GROUP,
                name: `Redis time per ${describeOperation(operation)} (INFO commandstats usec)`,
                unit: "µs/op",
                better: "lower",
                baselineLabel: `raw ${rawCommand(operation)}`,
              },
              [measured.ours],
              [measured.baseline],
            ),
          );
        }
        return rows;
      } finally {
        await member.leave();
      }
    }),
};
