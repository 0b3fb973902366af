import { randomUUID } from "node:crypto";
import { type RoundRobinProxy, startRoundRobinProxy } from "@mcp-sessions/session-testing/http";
import { type ExampleServerProcess, startExampleServerProcess } from "./example-server-process.js";
import { relaysSubscribed } from "./redis-admin.js";

export interface FleetOptions {
  readonly redisUrl: string;
  /** `SESSION_TTL_MS` of every instance. */
  readonly ttlMs: number;
  /** `SESSION_CLEANUP_INTERVAL_MS` of every instance. */
  readonly cleanupIntervalMs: number;
  /** How many instances, named A, B, C, … @default 2 */
  readonly size?: number;
  /** More variables for every instance, such as `RESUMABLE`. @default {} */
  readonly env?: Readonly<Record<string, string>>;
}

/** `node dist/main.js` processes on one Redis and one prefix: one fleet. */
export interface Fleet {
  /** `REDIS_PREFIX` of every instance. */
  readonly prefix: string;
  /** Every instance, in name order. */
  readonly instances: readonly ExampleServerProcess[];
  readonly a: ExampleServerProcess;
  readonly b: ExampleServerProcess;
  /** Stops every instance (SIGTERM, awaiting exit 0; one a test killed is only awaited). */
  stop(): Promise<void>;
}

const NAMES = ["A", "B", "C", "D"] as const;

/**
 * Starts instances A, B, … on free ports of 127.0.0.1 (`PORT=0`: each binds a port the OS
 * chose, so two can never race for one), sharing `REDIS_URL` and a fresh `REDIS_PREFIX`, and
 * logging at `info` with `INSTANCE_NAME` set to their name, so a test can see each session end
 * and each tool cancelled. Resolves once every instance's relay has subscribed: an instance
 * listens before that, and until then no reply to its requests can reach it.
 */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const size = options.size ?? 2;
  if (size < 2 || size > NAMES.length) {
    throw new TypeError(`Expected \`size\` to be from 2 to ${NAMES.length}, got \`${size}\``);
  }
  const prefix = `fleet-test-${randomUUID().slice(0, 8)}`;
  const env = {
    PORT: "0",
    HOST: "127.0.0.1",
    REDIS_URL: options.redisUrl,
    REDIS_PREFIX: prefix,
    SESSION_TTL_MS: String(options.ttlMs),
    SESSION_CLEANUP_INTERVAL_MS: String(options.cleanupIntervalMs),
    LOG_LEVEL: "info",
    ...options.env,
  };
  const started = await Promise.allSettled(
    NAMES.slice(0, size).map((name) =>
      startExampleServerProcess(name, { ...env, INSTANCE_NAME: name }),
    ),
  );
  const running = started.flatMap((result) =>
    result.status === "fulfilled" ? [result.value] : [],
  );
  const [a, b] = running;
  if (running.length < size || a === undefined || b === undefined) {
    await Promise.allSettled(running.map((instance) => instance.stop()));
    const failure = started.find((result) => result.status === "rejected");
    throw failure?.reason ?? new Error("A fleet instance did not start");
  }
  try {
    await relaysSubscribed(options.redisUrl, prefix, size);
  } catch (error) {
    await Promise.allSettled(running.map((instance) => instance.stop()));
    throw error;
  }
  return {
    prefix,
    instances: running,
    a,
    b,
    stop: async () => {
      const stopped = await Promise.allSettled(running.map((instance) => instance.stop()));
      const failure = stopped.find((result) => result.status === "rejected");
      if (failure !== undefined) throw failure.reason;
    },
  };
}

/** A round-robin proxy over `instances`, its log naming each by its instance name. */
export function startProxy(instances: readonly ExampleServerProcess[]): Promise<RoundRobinProxy> {
  return startRoundRobinProxy(
    instances.map((instance) => ({ name: instance.name, port: instance.port })),
  );
}

/** The instance of `instances` named `name`, as the proxy's log names it. */
export function named(
  instances: readonly ExampleServerProcess[],
  name: string | undefined,
): ExampleServerProcess {
  const instance = instances.find((each) => each.name === name);
  if (instance === undefined) throw new Error(`No instance named ${name}`);
  return instance;
}
