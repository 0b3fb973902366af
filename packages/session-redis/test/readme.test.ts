import { readFileSync } from "node:fs";
import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

const example = readFileSync(new URL("../examples/quick-start.ts", import.meta.url), "utf8");
let server: SpawnedRedis;

beforeAll(async () => {
  server = await spawnRedisServer();
});
afterAll(async () => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  await server.stop();
});

describe("README quick start", () => {
  it("quotes examples/quick-start.ts verbatim", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
  });

  it("runs as written against a real Redis", async () => {
    vi.stubEnv("REDIS_URL", server.url);
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      lines.push(args.map((arg) => JSON.stringify(arg) ?? String(arg)).join(" "));
    });
    await import("../examples/quick-start.js");
    expect(lines[0]).toBe('{"plan":"pro"}');
    expect(lines[1]).toMatch(/^"session [0-9a-f-]{36} ended: destroyed"$/);
  });
});
