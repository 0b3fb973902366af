import { defaultSendLog, type Logger, type SendLog } from "@mcp-sessions/session-core";
import { toSendLog } from "@mcp-sessions/session-core/store";
import type { Cluster, Redis } from "ioredis";

/**
 * How the store learns that Redis expired a key.
 * - `"configure"`: check `notify-keyspace-events` at start-up and after every reconnect, add
 *   `Ex` when it lacks them (CONFIG SET), and subscribe. If CONFIG is refused, fail and say so.
 * - `"subscribe"`: subscribe without checking; for managed Redis where you set the flags yourself.
 * - `"sweep-only"`: do not subscribe; the sweeper alone finds expired sessions, within
 *   `cleanupInterval`.
 */
export type KeyspaceEventsMode = "configure" | "subscribe" | "sweep-only";

export interface RedisSessionStoreOptions {
  /**
   * An ioredis `Redis` or `Cluster` to use. The store duplicates it for subscriptions and never
   * closes it: that is yours. Give either `client` or `url`.
   */
  client?: Redis | Cluster;
  /** A `redis://` or `rediss://` URL; the store then owns its connections and closes them. */
  url?: string;
  /**
   * Names everything the store writes, so two apps share one Redis safely: every key starts
   * with `{<prefix>:` (the prefix sits inside the key's hash tag), every channel with
   * `<prefix>:`, or `{<prefix>:` for a Cluster's sharded channels. The README's ACL section
   * gives the matching Redis ACL rule. Must not contain `{` or `}`.
   * @default "mcp-sessions"
   */
  prefix?: string;
  /**
   * How many due indexes to spread sessions over. Each is one Cluster slot; more spreads the
   * load over more shards, and each sweep reads every one. Between 1 and 1024.
   * @default 16
   */
  buckets?: number;
  /** @default "configure" */
  keyspaceEvents?: KeyspaceEventsMode;
  /**
   * How long a command may take before it rejects with `StoreUnavailableError`, in ms.
   * @default 2_000
   */
  commandTimeoutMs?: number;
  /**
   * Most due sessions one sweep claims per bucket; the next sweep follows at once if more
   * were due.
   * @default 500
   */
  sweepBatchSize?: number;
  /**
   * Events kept in each session's relay log for replay from a position; older ones are trimmed.
   * Trimming is approximate (`XADD … MAXLEN ~`): a log may hold up to one stream node more,
   * 100 entries at Redis's default `stream-node-max-entries`. Between 1 and 1,000,000.
   * @default 1_000
   */
  maxEventsPerSession?: number;
  /**
   * Receives logs as `{ level, logger, data }`: a function, or an object with a `sendLog()`
   * method (the seed's shape), called on the object.
   * @default warnings and errors as JSON lines on stderr
   */
  logger?: Logger;
}

export const DEFAULT_REDIS_SESSION_STORE_OPTIONS = Object.freeze({
  prefix: "mcp-sessions",
  buckets: 16,
  keyspaceEvents: "configure",
  commandTimeoutMs: 2_000,
  sweepBatchSize: 500,
  maxEventsPerSession: 1_000,
  logger: defaultSendLog,
} as const);

/** Where the store's command connection comes from: your client, or a URL it connects to. */
export type ClientSource = { readonly client: Redis | Cluster } | { readonly url: string };

export interface ResolvedRedisSessionStoreOptions {
  readonly connection: ClientSource;
  readonly prefix: string;
  readonly buckets: number;
  readonly keyspaceEvents: KeyspaceEventsMode;
  readonly commandTimeoutMs: number;
  readonly sweepBatchSize: number;
  readonly maxEventsPerSession: number;
  readonly logger: SendLog;
}

const KEYSPACE_EVENTS_MODES: readonly KeyspaceEventsMode[] = [
  "configure",
  "subscribe",
  "sweep-only",
];

/**
 * Fills in defaults and checks every field and combination.
 * @throws TypeError naming the option, the value and its type
 */
export function resolveOptions(input: RedisSessionStoreOptions): ResolvedRedisSessionStoreOptions {
  if (typeof input !== "object" || input === null) {
    throw new TypeError(
      `Expected options to be an object, got \`${String(input)}\` (${typeof input})`,
    );
  }
  const defined = Object.fromEntries(
    Object.entries(input).filter(([, value]) => value !== undefined),
  ) as RedisSessionStoreOptions;
  const options = { ...DEFAULT_REDIS_SESSION_STORE_OPTIONS, ...defined };
  const connection = resolveConnection(options.client, options.url);
  if (typeof options.prefix !== "string" || !/^[\x21-\x7A|~]{1,64}$/.test(options.prefix)) {
    throw optionError(
      "prefix",
      "1 to 64 visible ASCII characters without `{` or `}`",
      options.prefix,
    );
  }
  assertInteger("buckets", options.buckets, 1, 1024);
  if (!KEYSPACE_EVENTS_MODES.includes(options.keyspaceEvents)) {
    throw optionError(
      "keyspaceEvents",
      `one of ${KEYSPACE_EVENTS_MODES.map((mode) => `"${mode}"`).join(", ")}`,
      options.keyspaceEvents,
    );
  }
  assertInteger("commandTimeoutMs", options.commandTimeoutMs, 1, 2 ** 31 - 1);
  assertInteger("sweepBatchSize", options.sweepBatchSize, 1, 10_000);
  assertInteger("maxEventsPerSession", options.maxEventsPerSession, 1, 1_000_000);
  const logger = toSendLog(options.logger);
  return Object.freeze({
    connection,
    prefix: options.prefix,
    buckets: options.buckets,
    keyspaceEvents: options.keyspaceEvents,
    commandTimeoutMs: options.commandTimeoutMs,
    sweepBatchSize: options.sweepBatchSize,
    maxEventsPerSession: options.maxEventsPerSession,
    logger,
  });
}

function resolveConnection(client: unknown, url: unknown): ClientSource {
  if (client !== undefined && url !== undefined) {
    throw new TypeError("Expected either `client` or `url`, got both");
  }
  if (client !== undefined) {
    if (typeof (client as { duplicate?: unknown }).duplicate !== "function") {
      throw optionError("client", "an ioredis Redis or Cluster", client);
    }
    return { client: client as Redis | Cluster };
  }
  if (typeof url !== "string" || !/^rediss?:\/\//.test(url)) {
    throw new TypeError(
      `Expected \`url\` to be a redis:// or rediss:// URL, or \`client\` to be an ioredis client; got ${url === undefined ? "neither" : `\`url\` of type ${typeof url}`}`,
    );
  }
  return { url };
}

function assertInteger(name: string, value: unknown, minimum: number, maximum: number): void {
  if (!Number.isSafeInteger(value) || (value as number) < minimum || (value as number) > maximum) {
    throw optionError(name, `an integer from ${minimum} to ${maximum}`, value);
  }
}

function optionError(name: string, expected: string, value: unknown): TypeError {
  // A URL may carry a password, so values of any option are only shown when they are plain.
  const shown = typeof value === "object" && value !== null ? "an object" : `\`${String(value)}\``;
  return new TypeError(`Expected \`${name}\` to be ${expected}, got ${shown} (${typeof value})`);
}
