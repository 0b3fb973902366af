import { startExampleServer } from "./app.js";
import { loadConfig } from "./config.js";
import { runUntilSignal } from "./run-until-signal.js";

// `node dist/main.js`: configure from the environment, start, and shut down on SIGINT or SIGTERM.
await runUntilSignal("example-server", async () => startExampleServer(loadConfig(process.env)));
