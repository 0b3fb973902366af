import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

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
  "REDIS_URL",
  "REDIS_PREFIX",
  "LOG_LEVEL",
  "RESUMABLE",
  "INSTANCE_NAME",
] as const;
const START_TIMEOUT_MS = 20_000;
/** The server cuts connections one second into shutdown; this leaves it room. */
const STOP_TIMEOUT_MS = 10_000;

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
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const variable of CONFIG_VARIABLES) delete childEnv[variable];
  const child = spawn(process.execPath, [MAIN], {
    env: { ...childEnv, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Last resort if the test process ends without afterAll: no server outlives it.
  const killAtExit = () => child.kill("SIGKILL");
  process.once("exit", killAtExit);
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => {
      process.off("exit", killAtExit);
      resolve({ code, signal });
    }),
  );

  let listening: RegExpExecArray;
  try {
    listening = await waitForListening(child, exited, () => stderr);
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    throw new Error(`example-server ${name} did not start`, { cause: error });
  }
  const [, url = "", port = "", store = ""] = listening;

  let stopping: Promise<void> | undefined;
  let killed = false;
  const running = () => child.exitCode === null && child.signalCode === null;
  return Object.freeze({
    name,
    url,
    port: Number(port),
    store,
    stderr: () => stderr,
    logs: () => parseLogs(stderr),
    running,
    async kill() {
      killed = true;
      if (running()) child.kill("SIGKILL");
      await exited;
    },
    stop() {
      stopping ??= (async () => {
        if (killed) {
          await exited;
          return;
        }
        if (running()) child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        const { code, signal } = await exited;
        clearTimeout(timer);
        if (code !== 0) {
          throw new Error(
            `example-server ${name} exited with ${code ?? signal} on SIGTERM; stderr:\n${stderr}`,
          );
        }
      })();
      return stopping;
    },
  });
}

function waitForListening(
  child: ChildProcess,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
  stderr: () => string,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const timer = setTimeout(
      () => reject(new Error(`no "listening" line within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    lines.on("line", (line) => {
      const match = LISTENING.exec(line);
      if (match === null) return;
      clearTimeout(timer);
      resolve(match);
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code ?? signal}) before listening; stderr:\n${stderr()}`));
    });
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
