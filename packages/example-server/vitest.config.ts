import { defineConfig } from "vitest/config";

// The fleet suite runs a redis-server and four `node dist/main.js` processes and waits out a
// session's expiry, so it gets its own project and longer timeouts.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/*.test.ts"],
          exclude: ["test/fleet.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: "fleet",
          include: ["test/fleet.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
