import { configDefaults, defineConfig } from "vitest/config";

/** Tests that start real Redis servers; they get their own project and generous timeouts. */
const REDIS_TESTS = "test/redis-*.test.ts";

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "contract",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, REDIS_TESTS],
        },
      },
      {
        extends: true,
        test: {
          name: "redis",
          include: [REDIS_TESTS],
          testTimeout: 30_000,
          hookTimeout: 30_000,
          unstubEnvs: true,
        },
      },
    ],
  },
});
