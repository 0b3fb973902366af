// Readers of environment variables, one per kind of value. Each treats an unset or empty
// variable as unset, and throws a ConfigError naming the variable for a value it cannot use.

/** The environment, such as `process.env`. */
export type Env = Readonly<Record<string, string | undefined>>;

/** An environment variable has a value the server cannot use. The message names the variable. */
export class ConfigError extends Error {
  readonly variable: string;

  constructor(variable: string, message: string) {
    super(message);
    this.name = "ConfigError";
    this.variable = variable;
  }
}

/** The value of `name`, or `undefined` when it is unset or empty. */
export function readVariable(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

/** A whole number from `minimum` to `maximum`, written in digits only; `fallback` when unset. */
export function readInteger(
  env: Env,
  name: string,
  range: { readonly fallback: number; readonly minimum: number; readonly maximum?: number },
): number {
  const { fallback, minimum, maximum = Number.MAX_SAFE_INTEGER } = range;
  const raw = readVariable(env, name);
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

/** An address to bind: visible ASCII, no spaces. */
export function readHost(env: Env, name: string, fallback: string): string {
  const raw = readVariable(env, name) ?? fallback;
  if (!/^[\x21-\x7E]+$/.test(raw)) {
    throw new ConfigError(
      name,
      `Expected \`${name}\` to be a hostname or IP address, got \`${raw}\``,
    );
  }
  return raw;
}

/** A `redis://` or `rediss://` URL, or `undefined` (the in-memory store) when unset. */
export function readRedisUrl(env: Env, name: string): string | undefined {
  const raw = readVariable(env, name);
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
      name,
      `Expected \`${name}\` to be a redis:// or rediss:// URL such as \`redis://127.0.0.1:6379\`, or unset for the in-memory store`,
    );
  }
  return raw;
}

/** A Redis key prefix: 1 to 64 visible ASCII characters without braces. */
export function readRedisPrefix(env: Env, name: string, fallback: string): string {
  const raw = readVariable(env, name) ?? fallback;
  // The Redis store puts the prefix inside its own {hash tag}, so braces are not allowed.
  if (!/^[\x21-\x7A|~]{1,64}$/.test(raw)) {
    throw new ConfigError(
      name,
      `Expected \`${name}\` to be 1 to 64 visible ASCII characters without \`{\` or \`}\`, got \`${raw}\``,
    );
  }
  return raw;
}

/** `0` or `1`, as `false` or `true`. */
export function readZeroOrOne(env: Env, name: string, fallback: boolean): boolean {
  const raw = readVariable(env, name);
  if (raw === undefined) return fallback;
  if (raw !== "0" && raw !== "1") {
    throw new ConfigError(name, `Expected \`${name}\` to be 0 or 1, got \`${raw}\``);
  }
  return raw === "1";
}

/** One of `values`, exactly as written there. */
export function readOneOf<T extends string>(
  env: Env,
  name: string,
  values: readonly T[],
  fallback: T,
): T {
  const raw = readVariable(env, name) ?? fallback;
  const value = values.find((candidate) => candidate === raw);
  if (value === undefined) {
    throw new ConfigError(
      name,
      `Expected \`${name}\` to be one of ${values.join(", ")}, got \`${raw}\``,
    );
  }
  return value;
}

/** A name for logs: 1 to 64 visible ASCII characters, or `undefined` when unset. */
export function readName(env: Env, name: string): string | undefined {
  const raw = readVariable(env, name);
  if (raw === undefined) return undefined;
  if (!/^[\x21-\x7E]{1,64}$/.test(raw)) {
    throw new ConfigError(
      name,
      `Expected \`${name}\` to be 1 to 64 visible ASCII characters, got \`${raw}\``,
    );
  }
  return raw;
}
