import { randomUUID } from "node:crypto";
import { type RoundRobinProxy, startRoundRobinProxy } from "@mcp-sessions/session-testing/http";
import { type ServerFleet, startServerFleet } from "@mcp-sessions/session-testing/process";
import { type ExampleServerProcess, startExampleServerProcess } from "./example-server-process.js";
import { relaysSubscribed } from "./redis-admin.js";

export interface ExampleFleetOptions {
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

/** `node dist/main.js` processes on one Redis and one prefix: one fleet of the example server. */
export interface ExampleFleet extends ServerFleet<ExampleServerProcess> {
  /** `REDIS_PREFIX` of every instance. */
  readonly prefix: string;
  readonly a: ExampleServerProcess;
  readonly b: ExampleServerProcess;
}

const NAMES = ["A", "B", "C", "D"] as const;

/**
 * Starts instances A, B, … on free ports of 127.0.0.1 (`PORT=0`: each binds a port the OS
 * chose, so two can never race for one), sharing `REDIS_URL` and a fresh `REDIS_PREFIX`, and
 * logging at `info` with `INSTANCE_NAME` set to their name, so a test can see each session end
 * and each tool cancelled. Resolves once every instance's relay has subscribed: an instance
 * listens before that, and until then no reply to its requests can reach it.
 */
export async function startExampleFleet(options: ExampleFleetOptions): Promise<ExampleFleet> {
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
  const fleet = await startServerFleet({
    names: NAMES.slice(0, size),
    start: (name) => startExampleServerProcess(name, { ...env, INSTANCE_NAME: name }),
  });
  try {
    await relaysSubscribed(options.redisUrl, prefix, size);
  } catch (error) {
    // The subscriptions that never came are what the test must see; how the fleet stops is not.
    await Promise.allSettled([fleet.stop()]);
    throw error;
  }
  const [a, b] = fleet.instances as [ExampleServerProcess, ExampleServerProcess];
  return { ...fleet, prefix, a, b };
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
