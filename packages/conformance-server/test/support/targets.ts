import { randomUUID } from "node:crypto";
import { type RoundRobinProxy, startRoundRobinProxy } from "@mcp-sessions/session-testing/http";
import { startRedis } from "@mcp-sessions/session-testing/redis";
import { type FixtureProcess, startFixtureProcess } from "./fixture-process.js";

/** How the fixture is deployed for one pass of the suite. */
export type Mode = "single" | "fleet";

/** A deployment of the fixture that the conformance CLI runs against. */
export interface ConformanceTarget {
  readonly mode: Mode;
  /** Where the CLI connects: the one instance, or the fleet's proxy. */
  readonly url: string;
  /** The fixture processes behind `url`. */
  readonly processes: readonly FixtureProcess[];
  /** Stops everything this target started. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the target for `mode`. */
export function startTarget(mode: Mode): Promise<ConformanceTarget> {
  return mode === "single" ? startSingle() : startFleet();
}

/** One instance on the in-memory store. */
async function startSingle(): Promise<ConformanceTarget> {
  const instance = await startFixtureProcess("single");
  return { mode: "single", url: instance.url, processes: [instance], stop: () => instance.stop() };
}

/**
 * Two instances on one Redis with one fresh prefix, behind a proxy that sends each request to
 * the other instance than the last: every session is served by both, as behind a load balancer
 * without sticky sessions.
 */
async function startFleet(): Promise<ConformanceTarget> {
  const redis = await startRedis();
  const env = { REDIS_URL: redis.url, REDIS_PREFIX: `conformance-${randomUUID().slice(0, 8)}` };
  const started = await Promise.allSettled([
    startFixtureProcess("A", env),
    startFixtureProcess("B", env),
  ]);
  const running = started.flatMap((result) =>
    result.status === "fulfilled" ? [result.value] : [],
  );
  const [a, b] = running;
  if (a === undefined || b === undefined) {
    await Promise.allSettled(running.map((instance) => instance.stop()));
    await redis.stop();
    const failure = started.find((result) => result.status === "rejected");
    throw failure?.reason ?? new Error("A fleet instance did not start");
  }
  let proxy: RoundRobinProxy;
  try {
    proxy = await startRoundRobinProxy([
      { name: a.name, port: a.port },
      { name: b.name, port: b.port },
    ]);
  } catch (error) {
    await Promise.allSettled([a.stop(), b.stop()]);
    await redis.stop();
    throw error;
  }

  let stopping: Promise<void> | undefined;
  return {
    mode: "fleet",
    url: proxy.url,
    processes: [a, b],
    stop() {
      stopping ??= (async () => {
        const stopped = await Promise.allSettled([proxy.close(), a.stop(), b.stop()]);
        // Redis last: an instance shutting down still talks to it.
        await redis.stop();
        const failure = stopped.find((result) => result.status === "rejected");
        if (failure !== undefined) throw failure.reason;
      })();
      return stopping;
    },
  };
}
