import { MAX_TIMER_DELAY_MS } from "@mcp-sessions/session-core";
import { LOG_LEVELS, type LogLevel } from "./logger.js";

/** The example server's settings, each read from one environment variable. */
export interface ExampleServerConfig {
  /** `PORT`: TCP port to listen on; `0` picks a free one. @default 3000 */
  readonly port: number;
  /** `HOST`: address to bind. @default "127.0.0.1" */
  readonly host: string;
  /** `SESSION_TTL_MS`: idle timeout of a session, in ms. @default 1_800_000 (30 minutes) */
  readonly sessionTtlMs: number;
  /** `SESSION_CLEANUP_INTERVAL_MS`: longest time between expiry sweeps, in ms. @default 10_000 */
  readonly sessionCleanupIntervalMs: number;
  /** `MAX_SESSIONS`: most live sessions; an initialize beyond it gets 503. @default 10_000 */
  readonly maxSessions: number;
  /**
   * `MAX_SESSIONS_PER_ADDRESS`: most live sessions that one client address (an IPv6 client: its
   * /64) may make on this instance; an initialize beyond it gets 429. @default 100
   */
  readonly maxSessionsPerAddress: number;
  /**
   * `REQUEST_TIMEOUT_MS`: longest time a client may take to send a whole request, headers and
   * body, in ms; a slower one gets 408. Responses, such as SSE streams, are not limited.
   * @default 30_000
   */
  readonly requestTimeoutMs: number;
  /** `REDIS_URL`: a `redis://` or `rediss://` URL. @default undefined (in-memory store) */
  readonly redisUrl: string | undefined;
  /** `REDIS_PREFIX`: start of every Redis key; a fleet shares it. @default "mcp-sessions-example" */
  readonly redisPrefix: string;
  /** `LOG_LEVEL`: least severe MCP log level printed to stderr. @default "warning" */
  readonly logLevel: LogLevel;
  /**
   * `RESUMABLE`: `1` keeps every SSE event in the store's per-session log, so a client resumes a
   * cut stream with `Last-Event-ID` on any instance. @default false
   */
  readonly resumable: boolean;
  /** `INSTANCE_NAME`: names this process in every log line, as `instance`. @default undefined */
  readonly instanceName: string | undefined;
}

export const DEFAULT_EXAMPLE_SERVER_CONFIG = Object.freeze({
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
} as const satisfies ExampleServerConfig);

/** An environment variable has a value the server cannot use. The message names the variable. */
export class ConfigError extends Error {
  readonly variable: string;

  constructor(variable: string, message: string) {
    super(message);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

/**
 * Reads the configuration from environment variables. An unset or empty variable takes its
 * default.
 * @throws ConfigError naming the first variable with a bad value
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): ExampleServerConfig {
  const defaults = DEFAULT_EXAMPLE_SERVER_CONFIG;
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === "" ? undefined : value;
  };
  return Object.freeze({
    port: integer("PORT", read("PORT"), defaults.port, 0, 65_535),
    host: host(read("HOST") ?? defaults.host),
    sessionTtlMs: integer("SESSION_TTL_MS", read("SESSION_TTL_MS"), defaults.sessionTtlMs, 1),
    sessionCleanupIntervalMs: integer(
      "SESSION_CLEANUP_INTERVAL_MS",
      read("SESSION_CLEANUP_INTERVAL_MS"),
      defaults.sessionCleanupIntervalMs,
      1,
      MAX_TIMER_DELAY_MS,
    ),
    maxSessions: integer("MAX_SESSIONS", read("MAX_SESSIONS"), defaults.maxSessions, 1),
    maxSessionsPerAddress: integer(
      "MAX_SESSIONS_PER_ADDRESS",
      read("MAX_SESSIONS_PER_ADDRESS"),
      defaults.maxSessionsPerAddress,
      1,
    ),
    requestTimeoutMs: integer(
      "REQUEST_TIMEOUT_MS",
      read("REQUEST_TIMEOUT_MS"),
      defaults.requestTimeoutMs,
      1,
      MAX_TIMER_DELAY_MS,
    ),
    redisUrl: redisUrl(read("REDIS_URL")),
    redisPrefix: redisPrefix(read("REDIS_PREFIX") ?? defaults.redisPrefix),
    logLevel: logLevel(read("LOG_LEVEL") ?? defaults.logLevel),
    resumable: zeroOrOne("RESUMABLE", read("RESUMABLE"), defaults.resumable),
    instanceName: instanceName(read("INSTANCE_NAME")),
  });
}

function integer(
  name: string,
  raw: string | undefined,
  fallback: number,
  minimum: number,
  maximum = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined) return fallback;
  // Digits only: Number() would also take "1e3", "0x10" and " 12 ".
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
    throw new ConfigError(
      name,
      `Expected \`${name}\` to be an integer from ${minimum} to ${maximum}, got \`${raw}\``,
    );
  }
  return value;
}

function host(raw: string): string {
  if (!/^[\x21-\x7E]+$/.test(raw)) {
    throw new ConfigError(
      "HOST",
      `Expected \`HOST\` to be a hostname or IP address, got \`${raw}\``,
    );
  }
  return raw;
}

function redisUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let valid = false;
  try {
    const { protocol } = new URL(raw);
    valid = protocol === "redis:" || protocol === "rediss:";
  } catch {
    // Not a URL at all; reported below like any other bad value.
  }
  if (!valid) {
    // The value is not echoed: a Redis URL may carry a password.
    throw new ConfigError(
      "REDIS_URL",
      "Expected `REDIS_URL` to be a redis:// or rediss:// URL such as `redis://127.0.0.1:6379`, or unset for the in-memory store",
    );
  }
  return raw;
}

function redisPrefix(raw: string): string {
  // The Redis store puts the prefix inside its own {hash tag}, so braces are not allowed.
  if (!/^[\x21-\x7A|~]{1,64}$/.test(raw)) {
    throw new ConfigError(
      "REDIS_PREFIX",
      `Expected \`REDIS_PREFIX\` to be 1 to 64 visible ASCII characters without \`{\` or \`}\`, got \`${raw}\``,
    );
  }
  return raw;
}

function zeroOrOne(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  if (raw !== "0" && raw !== "1") {
    throw new ConfigError(name, `Expected \`${name}\` to be 0 or 1, got \`${raw}\``);
  }
  return raw === "1";
}

function instanceName(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^[\x21-\x7E]{1,64}$/.test(raw)) {
    throw new ConfigError(
      "INSTANCE_NAME",
      `Expected \`INSTANCE_NAME\` to be 1 to 64 visible ASCII characters, got \`${raw}\``,
    );
  }
  return raw;
}

function logLevel(raw: string): LogLevel {
  const level = LOG_LEVELS.find((candidate) => candidate === raw);
  if (level === undefined) {
    throw new ConfigError(
      "LOG_LEVEL",
      `Expected \`LOG_LEVEL\` to be one of ${LOG_LEVELS.join(", ")}, got \`${raw}\``,
    );
  }
  return level;
}
