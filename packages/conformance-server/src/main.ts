import { runUntilSignal } from "example-server";
import { loadConfig } from "./config.js";
import { startConformanceServer } from "./conformance-server.js";

// `node dist/main.js`: configure from the environment, start, and shut down on SIGINT or SIGTERM.
await runUntilSignal("conformance-server", async () =>
  startConformanceServer(loadConfig(process.env)),
);
