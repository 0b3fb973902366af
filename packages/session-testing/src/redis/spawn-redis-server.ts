import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onProcessExit } from "../exit-guard.js";
import { pollUntil } from "../wait/poll-until.js";
import { findExecutable } from "./executable.js";
import { findFreePort } from "./free-port.js";
import { sendRedisCommand } from "./redis-command.js";
import type { SpawnedRedis, SpawnRedisServerOptions } from "./types.js";

const HOST = "127.0.0.1";
const START_TIMEOUT_MS = 10_000;
/** After SIGTERM, how long a server may take to shut down before it gets SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;
const PING_TIMEOUT_MS = 1_000;
/** Attempts when a freely chosen port is taken before the server binds it. */
const PORT_ATTEMPTS = 5;
const LOG_TAIL_LINES = 15;

/** How to get a `redis-server` binary, for error messages. */
export const INSTALL_REDIS_HINT =
  "install Redis so that `redis-server` and `redis-cli` are on PATH " +
  "(`apt-get install redis-server`, `brew install redis`)";

/**
 * Spawns a `redis-server` process of its own on 127.0.0.1, in a fresh temp dir, and resolves
 * once it answers PING. Fault tests use it to kill, restart or reconfigure their server; tests
 * that only need some Redis use {@link startRedis}.
 *
 * The server saves nothing (`--save "" --appendonly no`) and logs to `redis.log` in its temp
 * dir. It is killed if the test process exits without `stop()`.
 *
 * @throws TypeError for invalid options; Error when `redis-server` is not on PATH, or when it
 * exits or does not answer PING within 10 s (the message quotes its log).
 * @example
 * const redis = await spawnRedisServer({ args: ["--notify-keyspace-events", "Ex"] });
 * const client = new Redis(redis.url);
 * await redis.kill(); // commands now fail
 * await redis.restart(); // same port, empty data
 * client.disconnect();
 * await redis.stop();
 */
export async function spawnRedisServer(
  options: SpawnRedisServerOptions = {},
): Promise<SpawnedRedis> {
  const { args, port } = resolveSpawnOptions(options);
  const binary = await findExecutable("redis-server");
  if (binary === undefined) {
    throw new Error(
      `spawnRedisServer needs \`redis-server\`, which is not on PATH; ${INSTALL_REDIS_HINT}`,
    );
  }
  return launchRedisServer({ binary, args, port: port ?? (() => findFreePort()) });
}

/** What {@link launchRedisServer} starts. */
export interface LaunchRedisServerConfig {
  /** Path of the `redis-server` binary. */
  readonly binary: string;
  /** Appended after the defaults. */
  readonly args: readonly string[];
  /** A fixed port, or how to choose one; a chosen port that turns out taken is chosen again. */
  readonly port: number | (() => Promise<number>);
}

/** Starts a `redis-server` as {@link spawnRedisServer} does, once the binary is known. */
export async function launchRedisServer(config: LaunchRedisServerConfig): Promise<SpawnedRedis> {
  const dir = await mkdtemp(join(tmpdir(), "mcp-sessions-redis-"));
  let current: RedisProcess | undefined;
  const unguard = onProcessExit(() => {
    current?.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  let port: number;
  try {
    ({ port, process: current } = await startOnSomePort(config, dir));
  } catch (error) {
    unguard();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  let stopped = false;
  // One lifecycle operation at a time, so that stop() during restart() cannot orphan a process.
  let queue: Promise<unknown> = Promise.resolve();
  const serially = <T>(operation: () => Promise<T>): Promise<T> => {
    const result = queue.then(operation);
    // The chain only orders operations; each caller still gets its own rejection via `result`.
    queue = result.catch(() => undefined);
    return result;
  };

  return Object.freeze({
    url: `redis://${HOST}:${port}`,
    host: HOST,
    port,
    stop: () =>
      serially(async () => {
        if (stopped) return;
        stopped = true;
        if (current !== undefined) await terminate(current, "SIGTERM");
        current = undefined;
        unguard();
        await rm(dir, { recursive: true, force: true });
      }),
    kill: () =>
      serially(async () => {
        if (current !== undefined) await terminate(current, "SIGKILL");
      }),
    freeze: () =>
      serially(async () => {
        if (isRunning(current)) current.child.kill("SIGSTOP");
      }),
    thaw: () =>
      serially(async () => {
        if (isRunning(current)) current.child.kill("SIGCONT");
      }),
    restart: () =>
      serially(async () => {
        if (stopped) {
          throw new Error(`The redis-server on ${HOST}:${port} was stopped; spawn a new one`);
        }
        if (current !== undefined) await terminate(current, "SIGTERM");
        const started = await startRedisProcess(config.binary, port, dir, config.args);
        if (!started.ok) throw started.error;
        current = started.process;
      }),
  });
}

interface RedisProcess {
  readonly child: ChildProcess;
  /** Resolves with how the process ended ("exited with code 1"); never rejects. */
  readonly exited: Promise<string>;
}

type StartResult =
  | { readonly ok: true; readonly process: RedisProcess }
  | { readonly ok: false; readonly error: Error; readonly addressInUse: boolean };

async function startOnSomePort(
  config: LaunchRedisServerConfig,
  dir: string,
): Promise<{ port: number; process: RedisProcess }> {
  const choose = config.port;
  if (typeof choose === "number") {
    const started = await startRedisProcess(config.binary, choose, dir, config.args);
    if (!started.ok) throw started.error;
    return { port: choose, process: started.process };
  }
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    const port = await choose();
    const started = await startRedisProcess(config.binary, port, dir, config.args);
    if (started.ok) return { port, process: started.process };
    if (!started.addressInUse) throw started.error;
    lastError = started.error;
  }
  throw new Error(`Every port chosen for redis-server was taken, in ${PORT_ATTEMPTS} attempts`, {
    cause: lastError,
  });
}

async function startRedisProcess(
  binary: string,
  port: number,
  dir: string,
  args: readonly string[],
): Promise<StartResult> {
  const logFile = join(dir, "redis.log");
  // Readiness is checked over a Unix socket in our own temp dir: only our process can answer
  // there, whereas on the TCP port another server that already holds it would. Redis binds TCP
  // before the socket and serves nothing until start-up is complete.
  const socketPath = join(dir, "redis.sock");
  const child = spawn(
    binary,
    [
      "--port",
      String(port),
      "--bind",
      HOST,
      "--save",
      "",
      "--appendonly",
      "no",
      "--daemonize",
      "no",
      "--dir",
      dir,
      "--logfile",
      logFile,
      "--unixsocket",
      socketPath,
      ...args,
    ],
    { cwd: dir, stdio: "ignore" },
  );
  // An unstopped server must not keep the test process alive; the exit guard kills it then.
  child.unref();

  const ended = new AbortController();
  const exited = new Promise<string>((resolve) => {
    child.once("exit", (code, signal) => {
      resolve(signal === null ? `exited with code ${code}` : `was killed by ${signal}`);
    });
    child.on("error", (error) => {
      // Without a pid the process never started, and no "exit" follows.
      if (child.pid === undefined) resolve(`could not be started (${error.message})`);
    });
  });
  void exited.then((how) => ended.abort(new Error(`redis-server ${how}`)));

  const where = `${HOST}:${port}`;
  try {
    await pollUntil(
      async () =>
        (await sendRedisCommand({ path: socketPath }, ["PING"], PING_TIMEOUT_MS)) === "PONG" &&
        (await sendRedisCommand({ host: HOST, port }, ["PING"], PING_TIMEOUT_MS)) === "PONG",
      {
        waitingFor: `redis-server on ${where} to answer PING`,
        timeoutMs: START_TIMEOUT_MS,
        signal: ended.signal,
      },
    );
  } catch (error) {
    if (!ended.signal.aborted) await terminate({ child, exited }, "SIGKILL");
    const log = await readLogTail(logFile);
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      addressInUse: log.includes("Address already in use"),
      error: new Error(
        `redis-server on ${where} did not start: ${reason}. Last lines of ${logFile}:\n${log}`,
        { cause: error },
      ),
    };
  }
  return { ok: true, process: { child, exited } };
}

function isRunning(redis: RedisProcess | undefined): redis is RedisProcess {
  const child = redis?.child;
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

async function terminate(redis: RedisProcess, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
  const { child, exited } = redis;
  if (!isRunning(redis) || child.pid === undefined) return;
  // Waiting for the exit must hold the event loop open, or a script awaiting stop() would end.
  child.ref();
  // A frozen process acts on no signal but SIGKILL until it runs again.
  child.kill("SIGCONT");
  child.kill(signal);
  const escalation =
    signal === "SIGTERM" ? setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS) : undefined;
  await exited;
  clearTimeout(escalation);
}

async function readLogTail(logFile: string): Promise<string> {
  try {
    const text = await readFile(logFile, "utf8");
    return text.trimEnd().split("\n").slice(-LOG_TAIL_LINES).join("\n");
  } catch (error) {
    return `(no log: ${error instanceof Error ? error.message : String(error)})`;
  }
}

function resolveSpawnOptions(options: SpawnRedisServerOptions): {
  args: readonly string[];
  port: number | undefined;
} {
  const { args = [], port } = options;
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === "string")) {
    throw new TypeError(`Expected \`args\` to be an array of strings, got \`${String(args)}\``);
  }
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65_535)) {
    throw new TypeError(
      `Expected \`port\` to be an integer from 1 to 65535, got \`${port}\` (${typeof port})`,
    );
  }
  return { args: [...args], port };
}
