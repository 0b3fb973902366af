import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_EXAMPLE_SERVER_CONFIG, loadConfig } from "../src/index.js";

describe("loadConfig", () => {
  it("takes the documented defaults when nothing is set, or a variable is empty", () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: "127.0.0.1",
      sessionTtlMs: 1_800_000,
      sessionCleanupIntervalMs: 10_000,
      maxSessions: 10_000,
      maxSessionsPerAddress: 100,
      requestTimeoutMs: 30_000,
      redisUrl: undefined,
      redisPrefix: "mcp-sessions-example",
      logLevel: "warning",
      resumable: false,
      instanceName: undefined,
    });
    expect(loadConfig({ PORT: "", REDIS_URL: "" })).toEqual(DEFAULT_EXAMPLE_SERVER_CONFIG);
  });

  it("reads every variable", () => {
    expect(
      loadConfig({
        PORT: "0",
        HOST: "::1",
        SESSION_TTL_MS: "60000",
        SESSION_CLEANUP_INTERVAL_MS: "500",
        MAX_SESSIONS: "5",
        MAX_SESSIONS_PER_ADDRESS: "3",
        REQUEST_TIMEOUT_MS: "5000",
        REDIS_URL: "rediss://user:secret@redis.example:6380/2",
        REDIS_PREFIX: "fleet-a",
        LOG_LEVEL: "debug",
        RESUMABLE: "1",
        INSTANCE_NAME: "web-1",
      }),
    ).toEqual({
      port: 0,
      host: "::1",
      sessionTtlMs: 60_000,
      sessionCleanupIntervalMs: 500,
      maxSessions: 5,
      maxSessionsPerAddress: 3,
      requestTimeoutMs: 5_000,
      redisUrl: "rediss://user:secret@redis.example:6380/2",
      redisPrefix: "fleet-a",
      logLevel: "debug",
      resumable: true,
      instanceName: "web-1",
    });
    expect(loadConfig({ RESUMABLE: "0" }).resumable).toBe(false);
  });

  it.each([
    ["PORT", "abc", "Expected `PORT` to be an integer from 0 to 65535, got `abc`"],
    ["PORT", "65536", "Expected `PORT` to be an integer from 0 to 65535, got `65536`"],
    ["PORT", "1e3", "Expected `PORT` to be an integer from 0 to 65535, got `1e3`"],
    ["SESSION_TTL_MS", "0", "Expected `SESSION_TTL_MS` to be an integer from 1 to"],
    ["SESSION_TTL_MS", "-5", "Expected `SESSION_TTL_MS` to be an integer from 1 to"],
    [
      "SESSION_CLEANUP_INTERVAL_MS",
      "2147483648",
      "Expected `SESSION_CLEANUP_INTERVAL_MS` to be an integer from 1 to 2147483647, got `2147483648`",
    ],
    ["MAX_SESSIONS", "1.5", "Expected `MAX_SESSIONS` to be an integer from 1 to"],
    [
      "MAX_SESSIONS_PER_ADDRESS",
      "0",
      "Expected `MAX_SESSIONS_PER_ADDRESS` to be an integer from 1",
    ],
    [
      "REQUEST_TIMEOUT_MS",
      "2147483648",
      "Expected `REQUEST_TIMEOUT_MS` to be an integer from 1 to 2147483647, got `2147483648`",
    ],
    ["HOST", "my host", "Expected `HOST` to be a hostname or IP address, got `my host`"],
    ["REDIS_PREFIX", "a{b}", "Expected `REDIS_PREFIX` to be 1 to 64 visible ASCII characters"],
    ["LOG_LEVEL", "loud", "Expected `LOG_LEVEL` to be one of debug, info, notice, warning"],
    ["RESUMABLE", "true", "Expected `RESUMABLE` to be 0 or 1, got `true`"],
    [
      "INSTANCE_NAME",
      "web 1",
      "Expected `INSTANCE_NAME` to be 1 to 64 visible ASCII characters, got `web 1`",
    ],
  ])("rejects %s=%s, naming the variable", (variable, value, message) => {
    const error = thrownBy(() => loadConfig({ [variable]: value }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ variable, message: expect.stringContaining(message) });
  });

  it("rejects a REDIS_URL that is not redis:// without echoing it", () => {
    const error = thrownBy(() => loadConfig({ REDIS_URL: "http://user:secret@redis.example" }));
    expect(error).toMatchObject({
      variable: "REDIS_URL",
      message:
        "Expected `REDIS_URL` to be a redis:// or rediss:// URL such as `redis://127.0.0.1:6379`, or unset for the in-memory store",
    });
  });
});

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("Expected a throw");
}
