import { defineConfig } from "vitest/config";

// Each test runs one scenario of the conformance CLI in a child process, against `node
// dist/main.js` processes (two on a redis-server in fleet mode); a scenario whose client round
// trip breaks waits out the fixture's 10 s timeout, and the CLI may get 75 s in all.
export default defineConfig({
  test: {
    include: ["test/*.test.ts"],
    testTimeout: 90_000,
    hookTimeout: 60_000,
  },
});
