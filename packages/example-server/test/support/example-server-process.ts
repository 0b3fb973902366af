import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startServerProcess } from "@mcp-sessions/session-testing/process";

export const MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url));
/** The line main.js prints once it listens: the MCP URL, its port and the store. */
export const LISTENING =
  /^example-server listening on (http:\/\/127\.0\.0\.1:(\d+)\/mcp) \(store: (memory|redis)\)$/;
/** Every variable the server reads: the test's own environment (a CI `REDIS_URL`) stays out. */
export const CONFIG_VARIABLES = [
  "PORT",
  "HOST",
  "SESSION_TTL_MS",
  "SESSION_CLEANUP_INTERVAL_MS",
  "MAX_SESSIONS",
  "MAX_SESSIONS_PER_ADDRESS",
  "REQUEST_TIMEOUT_MS",
  "REDIS_URL",
  "REDIS_PREFIX",
  "LOG_LEVEL",
  "RESUMABLE",
  "INSTANCE_NAME",
] as const;

/** One line of the server's JSON log on stderr. */
export interface LogEntry {
  readonly level: string;
  /** `INSTANCE_NAME`, when set. */
  readonly instance?: string;
  readonly logger: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** A `node dist/main.js` child process that printed its "listening" line. */
export interface ExampleServerProcess {
  /** A name for messages and for the proxy's log: "A", "B". */
  readonly name: string;
  /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  readonly port: number;
  readonly store: string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** The JSON log lines on stderr so far; other lines are left out. */
  logs(): LogEntry[];
  /** Whether the process has not exited. */
  running(): boolean;
  /**
   * SIGTERM, then resolves once the process exited 0; rejects on any other exit. Idempotent;
   * after `kill()` it only waits for the exit.
   */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would, and resolves once the process is gone. */
  kill(): Promise<void>;
}

/**
 * Starts `node dist/main.js` with `env` (and nothing of the test's own configuration), and
 * resolves once it prints "example-server listening on …".
 * @throws Error when dist/main.js is missing, or the process exits or stays silent for 20 s
 */
export async function startExampleServerProcess(
  name: string,
  env: Readonly<Record<string, string>>,
): Promise<ExampleServerProcess> {
  if (!existsSync(MAIN)) {
    throw new Error(`${MAIN} is missing; run \`pnpm --filter example-server build\` first`);
  }
  const server = await startServerProcess({
    name: `example-server ${name}`,
    script: MAIN,
    listening: LISTENING,
    env,
    clearEnv: CONFIG_VARIABLES,
  });
  const [, url = "", port = "", store = ""] = server.listening;
  // The process itself, named and located as this package's tests know it.
  return Object.freeze({
    ...server,
    name,
    url,
    port: Number(port),
    store,
    logs: () => parseLogs(server.stderr()),
  });
}

function parseLogs(stderr: string): LogEntry[] {
  const entries: LogEntry[] = [];
  for (const line of stderr.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      entries.push(JSON.parse(line) as LogEntry);
    } catch {
      // A line still being written, or not a log entry: only complete entries are counted.
    }
  }
  return entries;
}
