/**
 * `tools/call` requests per second under a small concurrent load from a separate process: 8
 * sessions, each calling `add` in a closed loop. The servers run in this process:
 *
 * - ours on one instance: `createMcpSessionHandler` with a `SessionManager` on a memory store;
 * - ours as a fleet: two instances, each its own handler, manager, `RedisSessionStore` and
 *   ioredis client on one spawned `redis-server`, behind a round-robin proxy: requests alternate
 *   between the instances, so every session is served (and adopted) by both;
 * - the same fleet with `resumable: true` (under a prefix of its own): every SSE event is also
 *   appended to the session's event log in Redis, one more script per event;
 * - the baseline: the SDK's documented `Map` of transports (`sdk-session-map.ts`), on its own and
 *   behind the same proxy with itself as the only target (so the proxy's hop is on both sides).
 *
 * On a small machine the load client itself can use a whole core, which caps every side's rate
 * alike; so each run also reads the servers' CPU time per call (this process, plus
 * `redis-server` for the fleets) over the loop alone, and for the fleets the commands Redis ran
 * per call. Each run loads every side once, back to
 * back, so that drift on a shared machine spreads over all of them. Every call must return the
 * right sum, and no session may be left behind, or the group fails.
 */
import { SessionManager } from "@mcp-sessions/session-core";
import { createMcpSessionHandler, type McpSessionHandler } from "@mcp-sessions/session-mcp";
import { MemorySessionStore } from "@mcp-sessions/session-memory";
import { startRoundRobinProxy } from "@mcp-sessions/session-testing/http";
import type { Redis } from "ioredis";
import {
  type BenchmarkGroup,
  collectGarbage,
  compare,
  progress,
  QUICK,
  type Row,
} from "../harness.js";
import { STORE_PREFIX, withRedis } from "../redis/fixtures.js";
import {
  type CommandStats,
  commandStats,
  commandStatsDelta,
  serverCpuMicros,
} from "../redis/server-stats.js";
import { buildAddServer, closeAll, type Listening, listen } from "./fixtures.js";
import { runLoadClient } from "./load.js";
import { createSdkSessionMap } from "./sdk-session-map.js";

/** Sessions per load client, each with one call in flight. */
const SESSIONS = 8;
/** Closed-loop time per side and run, in ms. */
const DURATION_MS = QUICK ? 1_000 : 5_000;
/** One untimed pass over every side first, shorter than a kept run: it only has to warm the JIT. */
const WARMUP_MS = QUICK ? 500 : 2_000;
const RUNS = QUICK ? 1 : 5;

const SIDES = ["ours", "fleet", "fleetResumable", "sdk", "sdkProxied"] as const;
type Side = (typeof SIDES)[number];

/** What one side measured in one run. */
interface Measured {
  readonly callsPerSecond: number;
  /** CPU time of the servers per call, in µs (see {@link Target.redis}). */
  readonly cpuMicrosPerCall: number;
  /** Commands `redis-server` ran per call, by name (script-internal ones included); fleets only. */
  readonly redisCallsPerCall?: ReadonlyMap<string, number>;
}
type Run = Record<Side, Measured>;

interface Target {
  readonly url: URL;
  /** Sessions live on the side; each run must leave none behind. */
  readonly live: () => Promise<number>;
  /**
   * The side's `redis-server`, read around the loop: its CPU time is added to this process's,
   * and its command counts show what each call cost in Redis.
   */
  readonly redis?: Redis;
}

/** `redis-server`'s CPU time and command counts at one moment. */
interface RedisReading {
  readonly cpuMicros: number;
  readonly stats: CommandStats;
}

async function readRedis(admin: Redis): Promise<RedisReading> {
  const cpuMicros = await serverCpuMicros(admin);
  return { cpuMicros, stats: await commandStats(admin) };
}

async function loadOneSide(target: Target, durationMs: number): Promise<Measured> {
  const readings: Promise<RedisReading>[] = [];
  const admin = target.redis;
  const run = await runLoadClient({
    url: target.url,
    sessions: SESSIONS,
    durationMs,
    ...(admin && { onLoop: () => readings.push(read(() => readRedis(admin))) }),
  });
  const [before, after] = await Promise.all(readings);
  if (before === undefined || after === undefined) {
    return { callsPerSecond: run.calls / run.seconds, cpuMicrosPerCall: run.cpuMicros / run.calls };
  }
  const { calls } = commandStatsDelta(before.stats, after.stats);
  return {
    callsPerSecond: run.calls / run.seconds,
    cpuMicrosPerCall: (run.cpuMicros + after.cpuMicros - before.cpuMicros) / run.calls,
    redisCallsPerCall: new Map([...calls].map(([name, count]) => [name, count / run.calls])),
  };
}

/**
 * Starts a reading now, to be awaited later: a failure is kept for that await (which rethrows
 * it) instead of surfacing meanwhile as an unhandled rejection.
 */
function read<T>(reading: () => Promise<T>): Promise<T> {
  const started = reading();
  started.catch(() => {});
  return started;
}

async function loadEverySide(targets: Record<Side, Target>, durationMs: number): Promise<Run> {
  collectGarbage();
  const run = {} as Record<Side, Measured>;
  for (const side of SIDES) {
    run[side] = await loadOneSide(targets[side], durationMs);
    const left = await targets[side].live();
    if (left !== 0) throw new Error(`${side}: ${left} sessions left after the load client ended`);
  }
  progress(
    `    ${SIDES.map((side) => `${side} ${Math.round(run[side].callsPerSecond)}/s ${Math.round(run[side].cpuMicrosPerCall)} µs CPU/call`).join(", ")}`,
  );
  for (const side of SIDES) {
    const perCall = run[side].redisCallsPerCall;
    if (perCall === undefined) continue;
    const described = [...perCall]
      .sort((a, b) => b[1] - a[1])
      .map(([name, count]) => `${name} ${count.toFixed(2)}`)
      .join(", ");
    progress(`    ${side}: Redis commands per tools/call: ${described}`);
  }
  return run;
}

/** Scripts (store and relay operations: one round trip each) that ran per call. */
function evalshaPerCall(measured: Measured): number {
  const perCall = measured.redisCallsPerCall;
  if (perCall === undefined) throw new Error("No Redis command counts for a fleet side");
  return (perCall.get("evalsha") ?? 0) + (perCall.get("eval") ?? 0);
}

export const mcpThroughput: BenchmarkGroup = {
  name: "mcp/throughput",
  run: () =>
    withRedis(async (redis) => {
      const closers: (() => Promise<void>)[] = [];
      const serve = async (handler: McpSessionHandler): Promise<Listening> => {
        closers.push(() => handler.close());
        const http = await listen((req, res) => void handler(req, res));
        closers.push(() => http.close());
        return http;
      };
      try {
        // Manager defaults on both ours (sweeper on, 30-minute TTL), as a server would run.
        const memoryStore = new MemorySessionStore();
        closers.push(() => memoryStore.close());
        const memory = new SessionManager({ store: memoryStore });
        closers.push(() => memory.close());
        const ours = await serve(
          createMcpSessionHandler({
            sessions: memory,
            relay: memoryStore.relay,
            createServer: buildAddServer,
          }),
        );

        // withRedis closes these managers, stores and clients after the handlers are closed. The
        // resumable fleet has a prefix of its own, as another deployment would.
        const startFleet = async (resumable: boolean, prefix: string) => {
          const instances = [];
          for (let i = 0; i < 2; i++) {
            const { manager, store } = await redis.manager(
              redis.connect(),
              { enabled: true },
              { prefix },
            );
            const http = await serve(
              createMcpSessionHandler({
                sessions: manager,
                relay: store.relay,
                createServer: buildAddServer,
                resumable,
              }),
            );
            instances.push({ manager, http });
          }
          const proxy = await startRoundRobinProxy(
            instances.map(({ http }, index) => ({
              name: `instance ${index}`,
              port: Number(http.url.port),
            })),
          );
          closers.push(() => proxy.close());
          return { proxy, sessions: instances[0]?.manager as SessionManager };
        };
        const fleet = await startFleet(false, STORE_PREFIX);
        const fleetResumable = await startFleet(true, `${STORE_PREFIX}-resumable`);
        const admin = redis.connect();

        const sdkMap = createSdkSessionMap();
        closers.push(() => sdkMap.close());
        const sdk = await listen(sdkMap.listener);
        closers.push(() => sdk.close());
        const sdkProxied = await startRoundRobinProxy([
          { name: "sdk", port: Number(sdk.url.port) },
        ]);
        closers.push(() => sdkProxied.close());

        const sdkLive = async () => sdkMap.size;
        const targets: Record<Side, Target> = {
          ours: { url: ours.url, live: () => memory.getActiveSessionCount() },
          fleet: {
            url: new URL(fleet.proxy.url),
            live: () => fleet.sessions.getActiveSessionCount(),
            redis: admin,
          },
          fleetResumable: {
            url: new URL(fleetResumable.proxy.url),
            live: () => fleetResumable.sessions.getActiveSessionCount(),
            redis: admin,
          },
          sdk: { url: sdk.url, live: sdkLive },
          sdkProxied: { url: new URL(sdkProxied.url), live: sdkLive },
        };

        progress(`  warm-up: every side for ${WARMUP_MS / 1000} s`);
        await loadEverySide(targets, WARMUP_MS);
        const runs: Run[] = [];
        for (let run = 1; run <= RUNS; run++) {
          progress(`  run ${run}/${RUNS}: every side for ${DURATION_MS / 1000} s`);
          runs.push(await loadEverySide(targets, DURATION_MS));
        }
        for (const { proxy } of [fleet, fleetResumable]) {
          const forwarded = [0, 1].map(
            (index) => proxy.requests.filter((r) => r.upstream === `instance ${index}`).length,
          );
          if (forwarded.some((count) => count === 0)) {
            throw new Error(`the proxy left an instance idle: ${forwarded.join(", ")}`);
          }
        }

        const load = `${SESSIONS} sessions, ${DURATION_MS / 1000} s closed loop`;
        const row = (
          metric: "rate" | "cpu",
          name: string,
          side: Side,
          baseline: Side,
          baselineLabel: string,
        ): Row => {
          const samples = (of: Side) =>
            runs.map((run) =>
              metric === "rate" ? run[of].callsPerSecond : run[of].cpuMicrosPerCall,
            );
          return compare(
            {
              group: "mcp/throughput",
              name: `${metric === "rate" ? "tools/call" : "server CPU per tools/call"} @ ${load}, ${name}`,
              unit: metric === "rate" ? "calls/s" : "µs/call",
              better: metric === "rate" ? "higher" : "lower",
              baselineLabel,
            },
            samples(side),
            samples(baseline),
          );
        };
        const sdkDirect = "SDK README: Map of StreamableHTTPServerTransport";
        const sdkBehindProxy = "SDK README Map, 1 instance, behind the same proxy";
        const oneInstance = "1 instance, memory store";
        const twoInstances = "2 instances on Redis, round-robin proxy";
        const resumable = `${twoInstances}, resumable: true`;
        const notResumable = "the same fleet, resumable: false";
        const redisIncluded = "redis-server included";
        return [
          row("rate", oneInstance, "ours", "sdk", sdkDirect),
          row("rate", twoInstances, "fleet", "sdk", "SDK README Map, 1 instance, no proxy"),
          row("rate", twoInstances, "fleet", "sdkProxied", sdkBehindProxy),
          row("rate", resumable, "fleetResumable", "fleet", notResumable),
          row("rate", resumable, "fleetResumable", "sdkProxied", sdkBehindProxy),
          row("cpu", oneInstance, "ours", "sdk", sdkDirect),
          row("cpu", `${twoInstances}, ${redisIncluded}`, "fleet", "sdkProxied", sdkBehindProxy),
          row("cpu", `${resumable}, ${redisIncluded}`, "fleetResumable", "fleet", notResumable),
          row(
            "cpu",
            `${resumable}, ${redisIncluded}`,
            "fleetResumable",
            "sdkProxied",
            sdkBehindProxy,
          ),
          compare(
            {
              group: "mcp/throughput",
              name: `Redis scripts run per tools/call (EVALSHA, INFO commandstats) @ ${load}, ${resumable}`,
              unit: "scripts/call",
              better: "lower",
              baselineLabel: notResumable,
            },
            runs.map((run) => evalshaPerCall(run.fleetResumable)),
            runs.map((run) => evalshaPerCall(run.fleet)),
          ),
        ];
      } finally {
        await closeAll(closers);
      }
    }),
};
