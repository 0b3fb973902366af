import { type SendLog, StoreConfigurationError } from "@mcp-sessions/session-core";
import { describeError, log } from "@mcp-sessions/session-core/store";
import type { Redis } from "ioredis";
import { expiredKeyChannel, type KeyLayout } from "./keys.js";
import type { KeyspaceEventsMode } from "./options.js";
import type { RedisConnection } from "./redis-connection.js";
import { isReplyError } from "./redis-errors.js";

const LOGGER = "session-redis/keyspace-events";

export interface KeyspaceEventsOptions {
  readonly connection: RedisConnection;
  readonly keys: KeyLayout;
  readonly mode: KeyspaceEventsMode;
  readonly logger: SendLog;
  /** Redis expired one of this store's session keys. */
  onExpiredKey(id: string): void;
}

/**
 * `__keyevent@<db>__:expired` on every server (every master of a Cluster, as they come and
 * go), unless sweep-only, with `notify-keyspace-events` checked at start-up, on each new master,
 * and after every reconnect in `"configure"` mode.
 */
export class KeyspaceEvents {
  readonly #options: KeyspaceEventsOptions;
  #unwatch: (() => void) | undefined;

  constructor(options: KeyspaceEventsOptions) {
    this.#options = options;
  }

  /**
   * Checks the server setting and subscribes. Rejects with `StoreConfigurationError` when
   * keyspace events are off and cannot be turned on.
   */
  async start(): Promise<void> {
    const { connection, keys, mode } = this.#options;
    if (mode === "sweep-only") return;
    const { subscriber } = connection;
    if (mode === "configure") {
      // Watching first: a master that joins while this checks the others is checked too. A
      // start() run again after an outage replaces the watch of the one before.
      this.#unwatch?.();
      const unwatch = subscriber.watchServers({
        joined: (server) => this.#recheck(server, "a new master"),
        // CONFIG SET does not survive a Redis restart: check again after every reconnect.
        reconnected: (server) => void this.#recheck(server, "a reconnect"),
      });
      this.#unwatch = unwatch;
      try {
        await Promise.all((await subscriber.servers()).map(ensureKeyspaceEvents));
      } catch (error) {
        // Misconfigured, or Redis is down: start() runs again, or someone fixes the server.
        unwatch();
        this.#unwatch = undefined;
        throw error;
      }
    }
    await subscriber.listen("per-server", [expiredKeyChannel(connection.database)], (key) => {
      const id = keys.idOfSessionKey(key);
      if (id !== undefined) this.#options.onExpiredKey(id);
    });
  }

  /** Never rejects: a server left without the flags is only swept. */
  async #recheck(server: Redis, after: string): Promise<void> {
    try {
      await ensureKeyspaceEvents(server);
    } catch (error) {
      log(this.#options.logger, {
        level: "error",
        logger: LOGGER,
        data: {
          message: `Keyspace events are off after ${after}; only the sweeper finds expired sessions there`,
          error: describeError(error),
        },
      });
    }
  }
}

/**
 * Makes sure `node` publishes expired-key events (`E` and `x`, or `A`), adding them if they are
 * missing. CONFIG SET does not survive a restart, so call it again after reconnecting.
 * @throws StoreConfigurationError (`STORE_MISCONFIGURED`) when the setting is off and CONFIG is refused
 */
export async function ensureKeyspaceEvents(node: Redis): Promise<void> {
  let flags: string;
  try {
    const reply: unknown = await node.config("GET", "notify-keyspace-events");
    flags = configValue(reply);
  } catch (error) {
    if (!isReplyError(error)) throw error;
    throw new StoreConfigurationError(
      `Cannot read notify-keyspace-events: CONFIG GET was refused (${error.message}). Set it to include \`Ex\` on the server, then pass \`keyspaceEvents: "subscribe"\`; or pass \`keyspaceEvents: "sweep-only"\``,
      { cause: error },
    );
  }
  if (flags.includes("E") && (flags.includes("x") || flags.includes("A"))) return;
  const wanted = [...new Set(`${flags}Ex`)].join("");
  try {
    await node.config("SET", "notify-keyspace-events", wanted);
  } catch (error) {
    if (!isReplyError(error)) throw error;
    throw new StoreConfigurationError(
      `notify-keyspace-events is "${flags}", which lacks \`Ex\`, and CONFIG SET was refused (${error.message}). Set it to include \`Ex\` on the server, then pass \`keyspaceEvents: "subscribe"\`; or pass \`keyspaceEvents: "sweep-only"\``,
      { cause: error },
    );
  }
}

/** CONFIG GET answers `[name, value]`, or a map under RESP3 with `replyMapping: "resp3"`. */
function configValue(reply: unknown): string {
  if (Array.isArray(reply)) return String(reply[1] ?? "");
  if (typeof reply === "object" && reply !== null) {
    return String(Object.values(reply)[0] ?? "");
  }
  return "";
}
