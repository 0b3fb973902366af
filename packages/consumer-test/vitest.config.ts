import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    // Packing five packages and one `npm install` from the registry happen in beforeAll.
    hookTimeout: 180_000,
  },
});
