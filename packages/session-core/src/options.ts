import { type Clock, MAX_TIMER_DELAY_MS, SYSTEM_CLOCK } from "./clock.js";
import { defaultSendLog, type Logger, type SendLog, toSendLog } from "./logger.js";
import { generateSessionId } from "./session-id.js";
import type { SessionStore } from "./session-store.js";

export interface SessionManagerOptions {
  /**
   * Where sessions live: `MemorySessionStore` for one process, `RedisSessionStore` for a fleet.
   * The manager never closes it: whoever made it closes it, after the manager's `close()`.
   */
  store: SessionStore;
  /**
   * Idle timeout in ms. Each `touch` moves the deadline to `now + ttl`, capped by `maxLifetime`.
   * Minimum: `1`.
   * @default 1_800_000 (30 minutes)
   */
  ttl?: number;
  /**
   * Longest time between expiry sweeps, in ms: the expiration handler runs at most this late.
   * Stores that report their next deadline (memory and Redis both do) are swept at it, but
   * sweeps are never closer than 20 ms apart.
   * Each wait is shortened by up to 20% at random, so a fleet does not sweep in lockstep.
   * Minimum: `1`.
   * @default 10_000
   */
  cleanupInterval?: number;
  /**
   * Whether this instance runs the sweep timer. When `false`, expired sessions still read as
   * missing, and another instance sweeps. A store that claims expiries on its own (the Redis
   * store, on a keyspace event) still delivers claims here, and the handler then runs here.
   * @default true
   */
  enabled?: boolean;
  /**
   * Absolute lifetime in ms from creation, however often the session is touched. Minimum: `1`.
   * @default 86_400_000 (24 hours)
   */
  maxLifetime?: number;
  /**
   * Most live sessions the store may hold; `create` and `register` then fail with
   * `SESSION_LIMIT_REACHED`. Minimum: `1`.
   * @default undefined (no limit)
   */
  maxSessions?: number;
  /**
   * Largest metadata, in UTF-8 bytes of its JSON. Minimum: `2` (`{}`).
   * @default 16_384
   */
  maxMetadataBytes?: number;
  /**
   * Makes ids for `create`. It must return 1 to 256 visible ASCII characters and be
   * unguessable: ids are looked up by whoever presents them.
   * @default crypto.randomUUID
   */
  idGenerator?: () => string;
  /**
   * Receives logs as `{ level, logger, data }`, the shape of MCP's `sendLoggingMessage`: a
   * function, or an object with a `sendLog()` method (the seed's shape), called on the object.
   * @default warnings and errors as JSON lines on stderr
   */
  logger?: Logger;
  /** The source of "now". @default Date.now */
  clock?: Clock;
}

/** Every option but `store`, at its default. */
export const DEFAULT_SESSION_MANAGER_OPTIONS = Object.freeze({
  ttl: 1_800_000,
  cleanupInterval: 10_000,
  enabled: true,
  maxLifetime: 86_400_000,
  maxSessions: undefined,
  maxMetadataBytes: 16_384,
  idGenerator: generateSessionId,
  logger: defaultSendLog,
  clock: SYSTEM_CLOCK,
} as const);

export interface ResolvedSessionManagerOptions {
  readonly store: SessionStore;
  readonly ttl: number;
  readonly cleanupInterval: number;
  readonly enabled: boolean;
  readonly maxLifetime: number;
  readonly maxSessions: number | undefined;
  readonly maxMetadataBytes: number;
  readonly idGenerator: () => string;
  readonly logger: SendLog;
  readonly clock: Clock;
}

/**
 * Fills in defaults and checks every field.
 * @throws TypeError naming the option, the value and its type
 */
export function resolveOptions(input: SessionManagerOptions): ResolvedSessionManagerOptions {
  if (typeof input !== "object" || input === null) {
    throw new TypeError(
      `Expected options to be an object, got \`${String(input)}\` (${typeof input})`,
    );
  }
  const options = { ...DEFAULT_SESSION_MANAGER_OPTIONS, ...withoutUndefined(input) };
  if (!isStore(options.store)) {
    throw new TypeError(
      "Expected `store` to be a SessionStore, such as `new MemorySessionStore()`",
    );
  }
  if (typeof options.store.shared !== "boolean") {
    throw optionError(
      "store.shared",
      "a boolean (do other processes see its sessions?)",
      options.store.shared,
    );
  }
  assertPositiveInteger("ttl", options.ttl);
  assertPositiveInteger("maxLifetime", options.maxLifetime);
  if (
    !Number.isSafeInteger(options.cleanupInterval) ||
    options.cleanupInterval < 1 ||
    options.cleanupInterval > MAX_TIMER_DELAY_MS
  ) {
    throw optionError(
      "cleanupInterval",
      `a positive integer of ms up to ${MAX_TIMER_DELAY_MS}`,
      options.cleanupInterval,
    );
  }
  if (options.maxSessions !== undefined) assertPositiveInteger("maxSessions", options.maxSessions);
  assertPositiveInteger("maxMetadataBytes", options.maxMetadataBytes, 2);
  if (typeof options.enabled !== "boolean") {
    throw optionError("enabled", "a boolean", options.enabled);
  }
  if (typeof options.idGenerator !== "function") {
    throw optionError("idGenerator", "a function", options.idGenerator);
  }
  const logger = toSendLog(options.logger);
  if (typeof options.clock?.now !== "function") {
    throw optionError("clock", "an object with a now() method", options.clock);
  }
  return Object.freeze({ ...options, logger, store: options.store });
}

function assertPositiveInteger(name: string, value: unknown, minimum = 1): void {
  if (!Number.isSafeInteger(value) || (value as number) < minimum) {
    throw optionError(name, `a positive integer of at least ${minimum}`, value);
  }
}

function optionError(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(
    `Expected \`${name}\` to be ${expected}, got \`${String(value)}\` (${typeof value})`,
  );
}

function isStore(value: unknown): value is SessionStore {
  const store = value as Partial<Record<keyof SessionStore, unknown>> | undefined;
  return typeof store?.create === "function" && typeof store.subscribe === "function";
}

/** `{ ttl: undefined }` means "the default", as if the key were absent. */
function withoutUndefined<T extends object>(input: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(input).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
