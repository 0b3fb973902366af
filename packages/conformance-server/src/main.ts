import { isSessionError } from "@mcp-sessions/session-core";
import { ConfigError, type ConformanceServerConfig, loadConfig } from "./config.js";
import { type ConformanceServer, startConformanceServer } from "./conformance-server.js";

// `node dist/main.js`: configure from the environment, start, and shut down on SIGINT or SIGTERM.

let config: ConformanceServerConfig;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`conformance-server: ${error.message}\n`);
  process.exit(1);
}

let server: ConformanceServer;
try {
  server = await startConformanceServer(config);
} catch (error) {
  const reason = error instanceof Error ? error.message : String(error);
  // Only the Redis store throws session errors while starting.
  const what = isSessionError(error) ? `Redis at REDIS_URL is not usable: ${reason}` : reason;
  process.stderr.write(`conformance-server: failed to start: ${what}\n`);
  process.exit(1);
}

let stopping = false;
const stop = (signal: NodeJS.Signals) => {
  if (stopping) {
    process.stderr.write(`conformance-server: ${signal} again, exiting without waiting\n`);
    process.exit(1);
  }
  stopping = true;
  server.close().then(
    () => process.exit(0),
    (error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      process.stderr.write(`conformance-server: shutdown failed: ${reason}\n`);
      process.exit(1);
    },
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);

// Announced only once a signal can stop the server cleanly: whoever waits for this line may
// send one at once.
process.stdout.write(`conformance-server listening on ${server.url} (store: ${server.store})\n`);
