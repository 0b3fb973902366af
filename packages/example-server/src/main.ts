import { isSessionError, unrefTimeout } from "@mcp-sessions/session-core";
import { type ExampleServer, startExampleServer } from "./app.js";
import { ConfigError, type ExampleServerConfig, loadConfig } from "./config.js";

// `node dist/main.js`: configure from the environment, start, and shut down on SIGINT or SIGTERM.

let config: ExampleServerConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`example-server: ${error.message}\n`);
  process.exit(1);
}

let server: ExampleServer;
try {
  server = await startExampleServer(config);
} catch (error) {
  process.stderr.write(`example-server: failed to start: ${startupFailure(error)}\n`);
  process.exit(1);
}

/** How long shutting down may take before the process gives up waiting and exits 1, in ms. */
const SHUTDOWN_TIMEOUT_MS = 10_000;

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  // One Ctrl-C can arrive twice: the terminal signals the whole process group, and `pnpm start`,
  // in that group too, passes its own on. So a signal during shutdown is no request to hurry;
  // the timeout below bounds the wait instead.
  if (stopping) return;
  stopping = true;
  process.stderr.write(`example-server: ${signal} received, shutting down\n`);
  unrefTimeout(() => {
    process.stderr.write(
      `example-server: shutdown took longer than ${SHUTDOWN_TIMEOUT_MS} ms, exiting without waiting\n`,
    );
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS);
  server.close().then(
    () => process.exit(0),
    (error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      process.stderr.write(`example-server: shutdown failed: ${reason}\n`);
      process.exit(1);
    },
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

// Announced only once a signal can stop the server cleanly: whoever waits for this line may
// send one at once.
process.stdout.write(`example-server listening on ${server.url} (store: ${server.store})\n`);

function startupFailure(error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  // Only the Redis store throws session errors while starting.
  if (isSessionError(error)) return `Redis at REDIS_URL is not usable: ${reason}`;
  if (error instanceof Error && (error as NodeJS.ErrnoException).code === "EADDRINUSE") {
    return `${reason}; set PORT to a free port, or to 0 for any`;
  }
  return reason;
}
