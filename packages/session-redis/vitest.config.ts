import { defineConfig } from "vitest/config";

// Every suite talks to real redis-server processes. Fault and Cluster suites start their own
// servers and wait out reconnects, so they get their own projects and longer timeouts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "redis",
          include: ["test/*.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: "fault",
          include: ["test/fault/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "cluster",
          include: ["test/cluster/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
