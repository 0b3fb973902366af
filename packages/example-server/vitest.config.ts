import { defineConfig } from "vitest/config";

// The fleet suites run redis-servers and `node dist/main.js` processes, kill some of them, and
// wait out a session's expiry, so they get their own project and longer timeouts.
const FLEET_SUITES = ["test/fleet.test.ts", "test/fleet-faults.test.ts"];
// `pnpm start` runs turbo before the server: on a cold cache, a build of the workspace.
const START_SUITES = ["test/start.test.ts"];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/*.test.ts"],
          exclude: [...FLEET_SUITES, ...START_SUITES],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: "fleet",
          include: FLEET_SUITES,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "start",
          include: START_SUITES,
          testTimeout: 600_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
