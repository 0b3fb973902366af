import { randomUUID } from "node:crypto";
import { type ExampleServerProcess, startExampleServerProcess } from "./example-server-process.js";

export interface FleetOptions {
  readonly redisUrl: string;
  /** `SESSION_TTL_MS` of every instance. */
  readonly ttlMs: number;
  /** `SESSION_CLEANUP_INTERVAL_MS` of every instance. */
  readonly cleanupIntervalMs: number;
}

/** Two `node dist/main.js` processes on one Redis and one prefix: one fleet. */
export interface Fleet {
  readonly a: ExampleServerProcess;
  readonly b: ExampleServerProcess;
  /** Stops both (SIGTERM, awaiting exit 0). */
  stop(): Promise<void>;
}

/**
 * Starts instances A and B on free ports of 127.0.0.1 (`PORT=0`: each binds a port the OS
 * chose, so two can never race for one), sharing `REDIS_URL` and a fresh `REDIS_PREFIX`, and
 * logging at `info` so a test can see each session end.
 */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const prefix = `fleet-test-${randomUUID().slice(0, 8)}`;
  const env = {
    PORT: "0",
    HOST: "127.0.0.1",
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: prefix,
    SESSION_TTL_MS: String(options.ttlMs),
    SESSION_CLEANUP_INTERVAL_MS: String(options.cleanupIntervalMs),
    LOG_LEVEL: "info",
  };
  const started = await Promise.allSettled([
    startExampleServerProcess("A", env),
    startExampleServerProcess("B", env),
  ]);
  const running = started.flatMap((result) =>
    result.status === "fulfilled" ? [result.value] : [],
  );
  const [a, b] = running;
  if (a === undefined || b === undefined) {
    await Promise.allSettled(running.map((instance) => instance.stop()));
    const failure = started.find((result) => result.status === "rejected");
    throw failure?.reason ?? new Error("A fleet instance did not start");
  }
  return {
    a,
    b,
    stop: async () => {
      const stopped = await Promise.allSettled([a.stop(), b.stop()]);
      const failure = stopped.find((result) => result.status === "rejected");
      if (failure !== undefined) throw failure.reason;
    },
  };
}
