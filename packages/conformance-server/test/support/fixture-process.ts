import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { startServerProcess } from "@mcp-sessions/session-testing/process";

export const MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url));
/** The line main.js prints once it listens: the MCP URL, its port and the store. */
export const LISTENING =
  /^conformance-server listening on (http:\/\/127\.0\.0\.1:(\d+)\/mcp) \(store: (memory|redis)\)$/;
/** Every variable the server reads: the test's own environment (a CI `REDIS_URL`) stays out. */
const CONFIG_VARIABLES = ["PORT", "HOST", "REDIS_URL", "REDIS_PREFIX"] as const;

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
  const server = await startServerProcess({
    name: `conformance-server ${name}`,
    script: MAIN,
    listening: LISTENING,
    env: { PORT: "0", HOST: "127.0.0.1", ...env },
    clearEnv: CONFIG_VARIABLES,
  });
  const [, url = "", port = "", store = ""] = server.listening;
  // The process itself, named and located as this package's tests know it.
  return Object.freeze({ ...server, name, url, port: Number(port), store });
}
