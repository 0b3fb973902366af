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
 * default. The Redis store checks `REDIS_PREFIX` itself when it starts.
 * @throws ConfigError naming the first variable with a bad value
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
): ConformanceServerConfig {
  const defaults = DEFAULT_CONFORMANCE_SERVER_CONFIG;
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === "" ? undefined : value;
  };
  return Object.freeze({
    port: port(read("PORT") ?? String(defaults.port)),
    host: read("HOST") ?? defaults.host,
    redisUrl: redisUrl(read("REDIS_URL")),
    redisPrefix: read("REDIS_PREFIX") ?? defaults.redisPrefix,
  });
}

function port(raw: string): number {
  // Digits only: Number() would also take "1e3", "0x10" and " 12 ".
  const value = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= 0 && value <= 65_535)) {
    throw new ConfigError(
      "PORT",
      `Expected \`PORT\` to be an integer from 0 to 65535, got \`${raw}\``,
    );
  }
  return value;
}

function redisUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let protocol: string | undefined;
  try {
    protocol = new URL(raw).protocol;
  } catch {
    // Not a URL at all; reported below like any other bad value.
  }
  if (protocol !== "redis:" && protocol !== "rediss:") {
    // The value is not echoed: a Redis URL may carry a password.
    throw new ConfigError(
      "REDIS_URL",
      "Expected `REDIS_URL` to be a redis:// or rediss:// URL, or unset for the in-memory store",
    );
  }
  return raw;
}
