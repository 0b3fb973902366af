import { MAX_TIMER_DELAY_MS } from "@mcp-sessions/session-core/store";
import {
  type Env,
  readHost,
  readInteger,
  readName,
  readOneOf,
  readRedisPrefix,
  readRedisUrl,
  readZeroOrOne,
} from "./env-variables.js";
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

/**
 * Reads the configuration from environment variables. An unset or empty variable takes its
 * default.
 * @throws ConfigError naming the first variable with a bad value
 */
export function loadConfig(env: Env): ExampleServerConfig {
  const defaults = DEFAULT_EXAMPLE_SERVER_CONFIG;
  const duration = (fallback: number) => ({ fallback, minimum: 1, maximum: MAX_TIMER_DELAY_MS });
  return Object.freeze({
    port: readInteger(env, "PORT", { fallback: defaults.port, minimum: 0, maximum: 65_535 }),
    host: readHost(env, "HOST", defaults.host),
    sessionTtlMs: readInteger(env, "SESSION_TTL_MS", {
      fallback: defaults.sessionTtlMs,
      minimum: 1,
    }),
    sessionCleanupIntervalMs: readInteger(
      env,
      "SESSION_CLEANUP_INTERVAL_MS",
      duration(defaults.sessionCleanupIntervalMs),
    ),
    maxSessions: readInteger(env, "MAX_SESSIONS", { fallback: defaults.maxSessions, minimum: 1 }),
    maxSessionsPerAddress: readInteger(env, "MAX_SESSIONS_PER_ADDRESS", {
      fallback: defaults.maxSessionsPerAddress,
      minimum: 1,
    }),
    requestTimeoutMs: readInteger(env, "REQUEST_TIMEOUT_MS", duration(defaults.requestTimeoutMs)),
    redisUrl: readRedisUrl(env, "REDIS_URL"),
    redisPrefix: readRedisPrefix(env, "REDIS_PREFIX", defaults.redisPrefix),
    logLevel: readOneOf(env, "LOG_LEVEL", LOG_LEVELS, defaults.logLevel),
    resumable: readZeroOrOne(env, "RESUMABLE", defaults.resumable),
    instanceName: readName(env, "INSTANCE_NAME"),
  });
}
