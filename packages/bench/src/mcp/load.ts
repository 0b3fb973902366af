/**
 * Load from a separate process: spawns `load-client.js` (compiled beside this file) with `node`,
 * waits for it, and returns what it measured. The client runs in its own process so that it does
 * not share the event loop of the servers it measures.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { progress } from "../harness.js";

/** What one load client prints to stdout, as its second line of JSON. */
export interface LoadClientResult {
  /** `tools/call` requests answered with the right sum. */
  readonly calls: number;
  /** From the first call to the end of the last, in seconds. */
  readonly seconds: number;
  /** Calls that failed or returned a wrong result; the group fails unless this is 0. */
  readonly errors: number;
  /** The first error's message, when there was one. */
  readonly firstError?: string;
}

/** How a load client runs. */
export interface LoadClientOptions {
  /** The MCP endpoint to load. */
  readonly url: URL;
  /** Sessions opened, each calling in a closed loop (one call in flight per session). */
  readonly sessions: number;
  /** How long the closed loop runs, in ms. */
  readonly durationMs: number;
  /**
   * Called when the client says its loop starts and again when it has ended, to take readings
   * around the loop alone (such as `redis-server`'s CPU time).
   */
  readonly onLoop?: (phase: "started" | "ended") => void;
}

/** What {@link runLoadClient} measured: the client's result and this process's CPU time. */
export interface LoadRun extends LoadClientResult {
  /**
   * CPU time (user + system) of this process while the client's loop ran, in µs: the servers'
   * cost (and the proxy's, where there is one), not the client's, nor `redis-server`'s.
   */
  readonly cpuMicros: number;
}

/** Past the duration, how long a client may take to connect, drain and close before it is killed. */
const GRACE_MS = 30_000;

const LOAD_CLIENT = fileURLToPath(new URL("./load-client.js", import.meta.url));

/**
 * Runs one load client to its end and returns its result. It is killed if it outlives its
 * duration by {@link GRACE_MS}; a client that fails, or reports any error, fails the call.
 */
export async function runLoadClient(options: LoadClientOptions): Promise<LoadRun> {
  const child = spawn(
    process.execPath,
    [LOAD_CLIENT, options.url.href, String(options.sessions), String(options.durationMs)],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  // Line 1 (`{"ready":true}`) starts the CPU reading, line 2 (the result) ends it.
  const lines: string[] = [];
  let pending = "";
  let cpuAtStart: NodeJS.CpuUsage | undefined;
  let cpu: NodeJS.CpuUsage | undefined;
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    pending += chunk;
    for (let end = pending.indexOf("\n"); end >= 0; end = pending.indexOf("\n")) {
      lines.push(pending.slice(0, end));
      pending = pending.slice(end + 1);
      if (lines.length === 1) {
        cpuAtStart = process.cpuUsage();
        options.onLoop?.("started");
      } else if (lines.length === 2) {
        cpu = process.cpuUsage(cpuAtStart);
        options.onLoop?.("ended");
      }
    }
  });
  const stderr: Buffer[] = [];
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
  const killer = setTimeout(() => child.kill("SIGKILL"), options.durationMs + GRACE_MS);
  killer.unref();
  let exit: { code: number | null; signal: NodeJS.Signals | null };
  try {
    exit = await exited(child);
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
  const errorText = Buffer.concat(stderr).toString("utf8").trim();
  if (exit.code !== 0 || cpu === undefined) {
    throw new Error(
      `load client for ${options.url.href} exited with ${exit.signal ?? `code ${exit.code}`} after ${lines.length} of 2 lines: ${errorText || "(no output)"}`,
    );
  }
  if (errorText !== "") progress(`  load client: ${errorText}`);
  const result = JSON.parse(lines[1] as string) as LoadClientResult;
  if (result.errors !== 0) {
    throw new Error(
      `load client for ${options.url.href}: ${result.errors} of ${result.calls + result.errors} calls failed; first: ${result.firstError}`,
    );
  }
  return { ...result, cpuMicros: cpu.user + cpu.system };
}

function exited(
  child: ChildProcess,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal }));
  });
}
