/**
 * The machine's ceiling for simple commands: `redis-benchmark` (from redis-tools), spawned as a
 * child process against the group's own server. It runs out of process, in C, with one
 * connection per client (`-c`) and no pipelining (`-P 1`).
 */
import { execFile } from "node:child_process";

const TIMEOUT_MS = 120_000;
const REQUESTS = 100_000;

/** Requests per second that `redis-benchmark -t get,set` reported, per test. */
export interface RedisBenchmarkResult {
  readonly get: number;
  readonly set: number;
}

/** `redis-benchmark -h <host> -p <port> -t get,set -n 100000 -c <clients> -P 1 -q`. */
export async function runRedisBenchmark(
  host: string,
  port: number,
  clients: number,
): Promise<RedisBenchmarkResult> {
  const stdout = await redisBenchmark(
    ["-h", host, "-p", String(port), "-t", "get,set", "-n", String(REQUESTS)],
    clients,
  );
  return { get: requestsPerSecond(stdout, "GET"), set: requestsPerSecond(stdout, "SET") };
}

/**
 * `redis-benchmark -h <host> -p <port> -n <requests> -c <clients> -P 1 -q <command…>`: one
 * arbitrary command, sent as given (each element one argument, so JSON needs no quoting).
 * Returns its requests per second.
 */
export async function runRedisBenchmarkCommand(
  host: string,
  port: number,
  clients: number,
  requests: number,
  command: readonly string[],
): Promise<number> {
  const stdout = await redisBenchmark(
    ["-h", host, "-p", String(port), "-n", String(requests)],
    clients,
    command,
  );
  // The test is named after the whole command line, which may hold anything: take the figure.
  const figures = [...stdout.matchAll(/([\d.]+) requests per second/g)];
  const last = figures.at(-1);
  if (last === undefined) {
    throw new Error(`redis-benchmark printed no result: ${stdout.trim().slice(-300)}`);
  }
  return Number(last[1]);
}

function redisBenchmark(
  target: readonly string[],
  clients: number,
  command: readonly string[] = [],
): Promise<string> {
  const args = [...target, "-c", String(clients), "-P", "1", "-q", ...command];
  return new Promise((resolve, reject) => {
    execFile("redis-benchmark", args, { timeout: TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error !== null) {
        const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
        reject(
          new Error(
            missing
              ? "`redis-benchmark` is not on PATH; install redis-tools (`apt-get install redis-tools`)"
              : `\`redis-benchmark ${args.join(" ")}\` failed: ${`${stdout}${stderr}`.trim().slice(-500)}`,
            { cause: error },
          ),
        );
        return;
      }
      resolve(stdout);
    });
  });
}

/**
 * With `-q`, progress lines end in `\r` and the final figure of each test is one line:
 * `SET: 84674.01 requests per second, p50=0.375 msec`.
 */
function requestsPerSecond(output: string, test: "GET" | "SET"): number {
  for (const line of output.split(/[\r\n]+/)) {
    const match = new RegExp(`^\\s*${test}: ([\\d.]+) requests per second`).exec(line);
    if (match) return Number(match[1]);
  }
  throw new Error(`redis-benchmark printed no ${test} result: ${output.trim().slice(-300)}`);
}
