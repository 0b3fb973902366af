import { type Env, readHost, readInteger, readRedisPrefix, readRedisUrl } from "example-server";

/** The fixture server's settings, each read from one environment variable. */
export interface ConformanceServerConfig {
  /** `PORT`: TCP port to listen on; `0` picks a free one. @default 0 */
  readonly port: number;
  /** `HOST`: address to bind. @default "127.0.0.1" */
  readonly host: string;
  /** `REDIS_URL`: a `redis://` or `rediss://` URL. @default undefined (in-memory store) */
  readonly redisUrl: string | undefined;
  /** `REDIS_PREFIX`: start of every Redis key; a fleet shares it. @default "conformance-server" */
  readonly redisPrefix: string;
}

export const DEFAULT_CONFORMANCE_SERVER_CONFIG = Object.freeze({
  port: 0,
  host: "127.0.0.1",
  redisUrl: undefined,
  redisPrefix: "conformance-server",
} as const satisfies ConformanceServerConfig);

/**
 * Reads the configuration from environment variables, with the example server's readers: an
 * unset or empty variable takes its default.
 * @throws ConfigError (from example-server) naming the first variable with a bad value
 */
export function loadConfig(env: Env): ConformanceServerConfig {
  const defaults = DEFAULT_CONFORMANCE_SERVER_CONFIG;
  return Object.freeze({
    port: readInteger(env, "PORT", { fallback: defaults.port, minimum: 0, maximum: 65_535 }),
    host: readHost(env, "HOST", defaults.host),
    redisUrl: readRedisUrl(env, "REDIS_URL"),
    redisPrefix: readRedisPrefix(env, "REDIS_PREFIX", defaults.redisPrefix),
  });
}
