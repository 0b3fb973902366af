import type { IncomingMessage } from "node:http";
import {
  defaultSendLog,
  type Logger,
  type SendLog,
  SessionManager,
  type SessionRelay,
} from "@mcp-sessions/session-core";
import { toSendLog } from "@mcp-sessions/session-core/store";
import { MemorySessionStore } from "@mcp-sessions/session-memory";
import type { ServerFactory, TransportOptions } from "./local-sessions.js";

export interface McpSessionHandlerOptions {
  /**
   * Where sessions live. What you pass in, you close: the handler never closes a manager, store or
   * relay it was given.
   * @default a `SessionManager` on a `MemorySessionStore`, both closed by `close()`
   */
  sessions?: SessionManager;
  /**
   * Carries what crosses instances (a client's reply to the instance whose request waits for it,
   * a cancellation, a notification for a GET stream held elsewhere) and keeps each session's
   * event log for `resumable`. Pass the relay made with the store, `store.relay` of a
   * `RedisSessionStore` or `MemorySessionStore`. A shared store (`SessionStore.shared`) needs a
   * shared relay: a non-sticky fleet cannot route without one, so the handler refuses to start.
   * @default the store's own relay when the handler makes the sessions; for `sessions` on a store
   *   that is not shared, an in-process relay
   */
  relay?: SessionRelay;
  /**
   * Builds a fresh `McpServer` (or low-level `Server`) for one session, on whichever instance
   * serves it. It must not be shared between sessions: each server is connected to one transport.
   */
  createServer: ServerFactory;
  /**
   * Returns the authenticated user of a request, from your own authentication (a verified bearer
   * token, a session cookie, mTLS). The session is bound to it: another user presenting the same
   * session id gets 404. Returning `undefined` refuses the request with 401. A throw is a 500.
   * It gets the web `Request`, and `node`, the Node request, when the handler was called as a
   * Node handler (where middleware left what it verified, such as `req.auth`). Not called for a
   * `fetch` given an `owner`.
   * @default no owner binding
   */
  authenticate?: (
    request: Request,
    node?: IncomingMessage,
  ) => string | undefined | Promise<string | undefined>;
  /**
   * Passed to each `WebStandardStreamableHTTPServerTransport` (`enableJsonResponse`,
   * `allowedHosts`, `allowedOrigins`, `enableDnsRebindingProtection`, `retryInterval`,
   * `keepAliveMs`). The session hooks and the event store are the handler's own (see
   * `resumable`), and so is the 4 MiB body limit: the handler reads every body itself.
   * @default {}
   */
  transport?: TransportOptions;
  /**
   * Keep every SSE event in the session store's per-session log (the SDK's `EventStore`), so a
   * client that loses a stream reconnects with `Last-Event-ID` to any instance and gets every
   * event it missed, in order, once. Costs one store round trip per event.
   * @default false
   */
  resumable?: boolean;
  /**
   * Receives logs as `{ level, logger, data }`: a function, or an object with a `sendLog()`
   * method (the seed's shape), called on the object. A default manager logs here too.
   * @default warnings and errors as JSON lines on stderr
   */
  logger?: Logger;
}

export interface ResolvedMcpSessionHandlerOptions {
  readonly sessions: SessionManager;
  /** The store under a `sessions` the handler made itself, and so closes with it. */
  readonly ownedStore: MemorySessionStore | undefined;
  /** Absent: no relay was given for a store that is not shared; the handler makes its own. */
  readonly relay: SessionRelay | undefined;
  readonly createServer: ServerFactory;
  readonly authenticate: McpSessionHandlerOptions["authenticate"];
  readonly transport: TransportOptions;
  readonly resumable: boolean;
  readonly logger: SendLog;
}

/**
 * Fills in defaults and checks every field.
 * @throws TypeError naming the option, the value and its type
 */
export function resolveOptions(input: McpSessionHandlerOptions): ResolvedMcpSessionHandlerOptions {
  if (typeof input !== "object" || input === null) {
    throw new TypeError(
      `Expected options to be an object, got \`${String(input)}\` (${typeof input})`,
    );
  }
  const {
    createServer,
    authenticate,
    transport = {},
    resumable = false,
    logger = defaultSendLog,
  } = input;
  const given = input.sessions ?? undefined;
  if (given !== undefined && typeof (given as Partial<SessionManager>).touch !== "function") {
    throw new TypeError("Expected `sessions` to be a SessionManager");
  }
  const { relay } = input;
  if (
    relay !== undefined &&
    (typeof relay?.join !== "function" || typeof relay.shared !== "boolean")
  ) {
    throw optionError("relay", "a SessionRelay, such as `store.relay`", relay);
  }
  if (given?.shared && relay?.shared !== true) {
    throw new TypeError(
      `The store of \`sessions\` is shared with other processes, so the fleet needs a shared relay to route replies and stream events between instances; ${relay === undefined ? "pass" : "`relay` is in-process: pass"} \`relay: store.relay\` (RedisSessionStore), or another shared SessionRelay`,
    );
  }
  if (typeof createServer !== "function")
    throw optionError("createServer", "a function", createServer);
  if (authenticate !== undefined && typeof authenticate !== "function") {
    throw optionError("authenticate", "a function", authenticate);
  }
  if (typeof transport !== "object" || transport === null) {
    throw optionError("transport", "an object", transport);
  }
  if (typeof resumable !== "boolean") throw optionError("resumable", "a boolean", resumable);
  if ("eventStore" in transport) {
    throw new TypeError(
      "Expected `transport` to have no `eventStore`: pass `resumable: true`, and the session store keeps the events",
    );
  }
  const sendLog = toSendLog(logger);
  // Made last: a manager starts its sweep timer, which a later throw would leave running.
  const ownedStore = given === undefined ? new MemorySessionStore({ logger: sendLog }) : undefined;
  const sessions =
    given ?? new SessionManager({ store: ownedStore as MemorySessionStore, logger: sendLog });
  return Object.freeze({
    sessions,
    ownedStore,
    relay: relay ?? ownedStore?.relay,
    createServer,
    authenticate,
    transport,
    resumable,
    logger: sendLog,
  });
}

function optionError(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(
    `Expected \`${name}\` to be ${expected}, got \`${String(value)}\` (${typeof value})`,
  );
}
