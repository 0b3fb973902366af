import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { log, type SendLog, SessionManager, unrefTimeout } from "@mcp-sessions/session-core";
import { createMcpSessionHandler } from "@mcp-sessions/session-mcp";
import { MemorySessionStore } from "@mcp-sessions/session-memory";
import { RedisSessionStore } from "@mcp-sessions/session-redis";
import type { ExampleServerConfig } from "./config.js";
import { createJsonLineLogger } from "./logger.js";
import { buildMcpServer } from "./mcp-server.js";
import { createRequestListener, LOOPBACK_HOSTNAMES, type StoreKind } from "./routes.js";
import { SessionsPerAddress } from "./sessions-per-address.js";

const LOGGER = "example-server/app";

/** How long `close()` lets open connections finish before it cuts them, in ms. */
const CLOSE_GRACE_MS = 1_000;
/** How often Node checks the request timeouts, in ms; Node's own 30 s would let them run late. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** A running example server. */
export interface ExampleServer {
  /** The MCP endpoint, such as `http://127.0.0.1:3000/mcp`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  readonly store: StoreKind;
  /**
   * Stops accepting connections, closes every MCP session's transport on this instance, closes
   * the session manager and its store, then the HTTP server; connections still open after a
   * short grace are cut. Sessions in Redis live on for the rest of the fleet. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Starts the example MCP server: sessions in memory, or in Redis when `redisUrl` is set, served
 * at `/mcp`, with `/healthz` beside it.
 * @throws StoreUnavailableError or StoreConfigurationError when Redis cannot be used, and the
 *   `listen` error (such as `EADDRINUSE`) when the port cannot be bound
 *
 * @example
 * const server = await startExampleServer(loadConfig(process.env));
 * console.log(server.url); // http://127.0.0.1:3000/mcp
 * await server.close();
 */
export async function startExampleServer(config: ExampleServerConfig): Promise<ExampleServer> {
  const logger = createJsonLineLogger(config.logLevel, { instance: config.instanceName });
  const { store, kind } = await openStore(config, logger);
  let sessions: SessionManager;
  try {
    sessions = new SessionManager({
      store,
      ttl: config.sessionTtlMs,
      cleanupInterval: config.sessionCleanupIntervalMs,
      maxSessions: config.maxSessions,
      logger,
    });
  } catch (error) {
    await store.close();
    throw error;
  }
  // Ids are left out: a session id is all a client needs to use the session.
  sessions.on("created", () =>
    log(logger, { level: "info", logger: LOGGER, data: { message: "Session created" } }),
  );
  sessions.on("ended", ({ reason }) =>
    log(logger, { level: "info", logger: LOGGER, data: { message: "Session ended", reason } }),
  );

  const urlHost = config.host.includes(":") ? `[${config.host}]` : config.host;
  const mcp = createMcpSessionHandler({
    sessions,
    relay: store.relay,
    createServer: () => buildMcpServer({ logger }),
    resumable: config.resumable,
    logger,
  });
  const http = createServer(
    {
      // Node's defaults let a client take 300 s to send a request, so a stalled body could hold
      // its buffer (up to 4 MB) for 5 minutes. An MCP request is one JSON-RPC message, sent at
      // once. These bound only receiving requests: an SSE stream is a long response to a short
      // request, and stays open as long as it likes.
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, config.requestTimeoutMs),
    },
    createRequestListener({
      mcp,
      sessions,
      store: kind,
      allowedHostnames: isLoopback(config.host)
        ? [...new Set([...LOOPBACK_HOSTNAMES, urlHost.toLowerCase()])]
        : undefined,
      sessionsPerAddress: new SessionsPerAddress({
        sessions,
        limit: config.maxSessionsPerAddress,
        recheckIntervalMs: config.sessionCleanupIntervalMs,
      }),
      logger,
    }),
  );
  try {
    await listen(http, config.port, config.host);
  } catch (error) {
    await mcp.close();
    await sessions.close();
    throw error;
  }
  // Announced only once replies and stream events routed here by other instances arrive.
  await mcp.ready();
  const { port } = http.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}/mcp`,
    port,
    store: kind,
    close() {
      closing ??= (async () => {
        const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeIdleConnections();
        // Armed first: the MCP handler waits for the requests in flight, and one whose client
        // stalls mid-body would otherwise hold the shutdown until its request timeout.
        const cut = unrefTimeout(() => http.closeAllConnections(), CLOSE_GRACE_MS);
        try {
          // Closing each session's server ends its SSE streams, so their connections can finish.
          await mcp.close();
          await sessions.close();
        } finally {
          // The connections those streams used are idle now; a keep-alive would hold them open.
          http.closeIdleConnections();
          await httpClosed;
          clearTimeout(cut);
        }
        log(logger, { level: "info", logger: LOGGER, data: { message: "Server closed" } });
      })();
      return closing;
    },
  };
}

async function openStore(
  config: ExampleServerConfig,
  logger: SendLog,
): Promise<{ store: MemorySessionStore | RedisSessionStore; kind: StoreKind }> {
  if (config.redisUrl === undefined) {
    return { store: new MemorySessionStore({ logger }), kind: "memory" };
  }
  const store = new RedisSessionStore({ url: config.redisUrl, prefix: config.redisPrefix, logger });
  try {
    // Fail at start-up, not on the first request, when Redis is unreachable or misconfigured.
    await store.ready();
  } catch (error) {
    await store.close();
    throw error;
  }
  return { store, kind: "redis" };
}

function listen(http: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, host, () => {
      http.off("error", reject);
      resolve();
    });
  });
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
