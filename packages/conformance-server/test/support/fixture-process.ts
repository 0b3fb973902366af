import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url));
/** The line main.js prints once it listens: the MCP URL, its port and the store. */
export const LISTENING =
  /^conformance-server listening on (http:\/\/127\.0\.0\.1:(\d+)\/mcp) \(store: (memory|redis)\)$/;
/** Every variable the server reads: the test's own environment (a CI `REDIS_URL`) stays out. */
const CONFIG_VARIABLES = ["PORT", "HOST", "REDIS_URL", "REDIS_PREFIX"] as const;
const START_TIMEOUT_MS = 20_000;
/** The server cuts connections one second into shutdown; this leaves it room. */
const STOP_TIMEOUT_MS = 10_000;

/** A `node dist/main.js` child process that printed its "listening" line. */
export interface FixtureProcess {
  /** A name for messages: "single", "A", "B". */
  readonly name: string;
  /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  readonly port: number;
  readonly store: string;
  /** Everything written to stderr so far: the session handler's warnings and errors. */
  stderr(): string;
  /** SIGTERM, then resolves once the process exited 0; rejects on any other exit. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `node dist/main.js` on a free port of 127.0.0.1 with `env` (and nothing of the test's
 * own configuration), and resolves once it prints "conformance-server listening on …".
 * @throws Error when dist/main.js is missing, or the process exits or stays silent for 20 s
 */
export async function startFixtureProcess(
  name: string,
  env: Readonly<Record<string, string>> = {},
): Promise<FixtureProcess> {
  if (!existsSync(MAIN)) {
    throw new Error(`${MAIN} is missing; run \`pnpm --filter conformance-server build\` first`);
  }
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const variable of CONFIG_VARIABLES) delete childEnv[variable];
  const child = spawn(process.execPath, [MAIN], {
    env: { ...childEnv, PORT: "0", HOST: "127.0.0.1", ...env },
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
    throw new Error(`conformance-server ${name} did not start`, { cause: error });
  }
  const [, url = "", port = "", store = ""] = listening;

  let stopping: Promise<void> | undefined;
  return Object.freeze({
    name,
    url,
    port: Number(port),
    store,
    stderr: () => stderr,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
        const { code, signal } = await exited;
        clearTimeout(timer);
        if (code !== 0) {
          throw new Error(
            `conformance-server ${name} exited with ${code ?? signal} on SIGTERM; stderr:\n${stderr}`,
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
