import { SessionManager } from "@mcp-sessions/session-core";
import { log } from "@mcp-sessions/session-core/store";
import { createMcpSessionHandler } from "@mcp-sessions/session-mcp";
import type { ExampleServerConfig } from "./config.js";
import { allowedHostnamesFor } from "./host-guard.js";
import { createJsonLineLogger } from "./logger.js";
import { buildMcpServer } from "./mcp-server.js";
import { openSessionStore, type StoreKind } from "./open-session-store.js";
import { createRequestListener } from "./routes.js";
import { SessionsPerAddress } from "./sessions-per-address.js";
import { startHttpServer } from "./start-http-server.js";

const LOGGER = "example-server/app";

/** A running example server. */
export interface ExampleServer {
  /** The MCP endpoint, such as `http://127.0.0.1:3000/mcp`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  readonly store: StoreKind;
  /**
   * Stops accepting connections, closes every MCP session's transport on this instance, closes
   * the session manager, then the store it opened, then the HTTP server; connections still open after a
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
  const { store, kind } = await openSessionStore(config, logger);
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

  const mcp = createMcpSessionHandler({
    sessions,
    relay: store.relay,
    createServer: () => buildMcpServer({ logger }),
    resumable: config.resumable,
    logger,
  });
  const listener = createRequestListener({
    mcp,
    sessions,
    store: kind,
    allowedHostnames: allowedHostnamesFor(config.host),
    sessionsPerAddress: new SessionsPerAddress({
      sessions,
      limit: config.maxSessionsPerAddress,
      recheckIntervalMs: config.sessionCleanupIntervalMs,
    }),
    logger,
  });
  const http = await startHttpServer({
    listener,
    port: config.port,
    host: config.host,
    requestTimeoutMs: config.requestTimeoutMs,
    closeInOrder: [mcp, sessions, store],
  });
  // Announced only once replies and stream events routed here by other instances arrive.
  await mcp.ready();

  let closing: Promise<void> | undefined;
  return {
    url: `${http.origin}/mcp`,
    port: http.port,
    store: kind,
    close() {
      closing ??= http.close().then(() => {
        log(logger, { level: "info", logger: LOGGER, data: { message: "Server closed" } });
      });
      return closing;
    },
  };
}
