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
export function runRedisBenchmark(
  host: string,
  port: number,
  clients: number,
): Promise<RedisBenchmarkResult> {
  const args = ["-h", host, "-p", String(port), "-t", "get,set", "-n", String(REQUESTS)];
  args.push("-c", String(clients), "-P", "1", "-q");
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
      try {
        resolve({ get: requestsPerSecond(stdout, "GET"), set: requestsPerSecond(stdout, "SET") });
      } catch (parseError) {
        reject(parseError);
      }
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
