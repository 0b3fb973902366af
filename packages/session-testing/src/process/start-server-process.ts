import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { onProcessExit } from "../exit-guard.js";

const START_TIMEOUT_MS = 20_000;
/** After SIGTERM, how long a server may take to shut down before it gets SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;

/** What {@link startServerProcess} starts. */
export interface ServerProcessOptions {
  /** Names the process in error messages, such as `"example-server A"`. */
  readonly name: string;
  /** Absolute path of the script that `node` runs, such as the server's `dist/main.js`. */
  readonly script: string;
  /** The line the server prints on stdout once it listens; its match is kept as `listening`. */
  readonly listening: RegExp;
  /** Variables set for the process, over what remains of the test's own environment. @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Variables of the test's own environment that the process must not inherit: every one the
   * server reads, so a CI `REDIS_URL` cannot reach it. `env` may set them again. @default []
   */
  readonly clearEnv?: readonly string[];
}

/** A `node <script>` child process that printed its "listening" line. */
export interface ServerProcess {
  readonly name: string;
  /** The match of `listening` on the line the server printed: capture the URL and port there. */
  readonly listening: RegExpExecArray;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Whether the process has not exited. */
  running(): boolean;
  /**
   * SIGTERM (SIGKILL after 10 s), then resolves once the process exited 0; rejects on any other
   * exit, quoting stderr. Idempotent; after `kill()` it only waits for the exit.
   */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would, and resolves once the process is gone. */
  kill(): Promise<void>;
}

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * Starts `node <script>` (with the running Node) and resolves once a line on its stdout matches
 * `listening`: an instance of the server under test, such as a fleet test puts behind the
 * round-robin proxy of `./http`. The process is killed if the test process exits, or gets
 * SIGTERM, SIGINT or SIGHUP, first.
 *
 * @throws Error when `script` is missing, or the process exits or prints no matching line within
 * 20 s (it is killed then; the message quotes stderr).
 * @example
 * const server = await startServerProcess({
 *   name: "my-server A",
 *   script: fileURLToPath(new URL("../dist/main.js", import.meta.url)),
 *   listening: /^listening on (http:\/\/127\.0\.0\.1:(\d+)\/mcp)$/,
 *   env: { PORT: "0" },
 *   clearEnv: ["PORT", "REDIS_URL"],
 * });
 * const [, url = "", port = ""] = server.listening;
 * await server.stop();
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const { name, script, listening: pattern, env = {}, clearEnv = [] } = options;
  if (!existsSync(script)) throw new Error(`${name}: ${script} is missing; build it first`);
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const variable of clearEnv) delete childEnv[variable];
  const child = spawn(process.execPath, [script], {
    env: { ...childEnv, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Last resort if the test process ends without stop(): no server outlives it.
  const unguard = onProcessExit(() => child.kill("SIGKILL"));
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once("exit", (code, signal) => {
      unguard();
      resolve({ code, signal });
    }),
  );

  let listening: RegExpExecArray;
  try {
    listening = await waitForListening(child, pattern, exited, () => stderr);
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    throw new Error(`${name} did not start`, { cause: error });
  }

  let stopping: Promise<void> | undefined;
  let killed = false;
  const running = () => child.exitCode === null && child.signalCode === null;
  return Object.freeze({
    name,
    listening,
    stderr: () => stderr,
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
          throw new Error(`${name} exited with ${code ?? signal} on SIGTERM; stderr:\n${stderr}`);
        }
      })();
      return stopping;
    },
  });
}

function waitForListening(
  child: ChildProcess,
  pattern: RegExp,
  exited: Promise<Exit>,
  stderr: () => string,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const timer = setTimeout(
      () => reject(new Error(`no "listening" line within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    lines.on("line", (line) => {
      const match = pattern.exec(line);
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
