import { isSessionError } from "@mcp-sessions/session-core";
import { unrefTimeout } from "@mcp-sessions/session-core/store";
import { ConfigError } from "./env-variables.js";
import type { StoreKind } from "./open-session-store.js";

/** How long shutting down may take before the process gives up waiting and exits 1, in ms. */
export const SHUTDOWN_TIMEOUT_MS = 10_000;

/** What {@link runUntilSignal} runs: a started server it can announce and close. */
export interface RunningServer {
  /** The MCP endpoint, with the port actually bound. */
  readonly url: string;
  readonly store: StoreKind;
  close(): Promise<void>;
}

/**
 * The body of a server's `main.ts`: starts the server with `start`, prints
 * `<name> listening on <url> (store: <kind>)` on stdout once a signal can stop it cleanly, and
 * on SIGINT or SIGTERM closes it and exits 0 (1 when closing fails or takes longer than 10 s).
 * A start that fails exits 1 with one line on stderr: the variable a `ConfigError` names, what
 * was wrong with Redis, or a busy port.
 *
 * @example
 * await runUntilSignal("example-server", () => startExampleServer(loadConfig(process.env)));
 */
export async function runUntilSignal(
  name: string,
  start: () => Promise<RunningServer>,
): Promise<void> {
  let server: RunningServer;
  try {
    server = await start();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${name}: ${error.message}\n`);
    } else {
      process.stderr.write(`${name}: failed to start: ${startupFailure(error)}\n`);
    }
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    // One Ctrl-C can arrive twice: the terminal signals the whole process group, and `pnpm start`,
    // in that group too, passes its own on. So a signal during shutdown is no request to hurry;
    // the timeout below bounds the wait instead.
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${name}: ${signal} received, shutting down\n`);
    unrefTimeout(() => {
      process.stderr.write(
        `${name}: shutdown took longer than ${SHUTDOWN_TIMEOUT_MS} ms, exiting without waiting\n`,
      );
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        process.stderr.write(`${name}: shutdown failed: ${reason}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  // Announced only once a signal can stop the server cleanly: whoever waits for this line may
  // send one at once.
  process.stdout.write(`${name} listening on ${server.url} (store: ${server.store})\n`);
}

function startupFailure(error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  // Only the Redis store throws session errors while starting.
  if (isSessionError(error)) return `Redis at REDIS_URL is not usable: ${reason}`;
  if (error instanceof Error && (error as NodeJS.ErrnoException).code === "EADDRINUSE") {
    return `${reason}; set PORT to a free port, or to 0 for any`;
  }
  return reason;
}
