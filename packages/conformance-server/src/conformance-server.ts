import { SessionManager } from "@mcp-sessions/session-core";
import { createMcpSessionHandler } from "@mcp-sessions/session-mcp";
import {
  createJsonLineLogger,
  createRequestListener,
  LOOPBACK_HOSTNAMES,
  openSessionStore,
  type RunningServer,
  startHttpServer,
} from "example-server";
import type { ConformanceServerConfig } from "./config.js";
import { buildFixtureServer } from "./fixture-server.js";

/** A running conformance fixture server. */
export interface ConformanceServer extends RunningServer {
  /** The MCP endpoint, such as `http://127.0.0.1:3000/mcp`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  /**
   * Stops accepting connections, closes every session's transport on this instance, then the
   * session manager, then the store it opened, then the HTTP server; connections still open after a short
   * grace are cut. Sessions in Redis live on for the rest of the fleet. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Starts the fixture at `/mcp` on `createMcpSessionHandler`, in the example server's shell (its
 * store choice, Host and Origin check, `/healthz`, logger and shutdown): sessions in memory, or
 * in Redis when `redisUrl` is set, so that several processes with one prefix serve as one fleet.
 * @throws StoreUnavailableError or StoreConfigurationError when Redis cannot be used, and the
 *   `listen` error (such as `EADDRINUSE`) when the port cannot be bound
 *
 * @example
 * const server = await startConformanceServer(loadConfig(process.env));
 * console.log(server.url); // http://127.0.0.1:41234/mcp
 * await server.close();
 */
export async function startConformanceServer(
  config: ConformanceServerConfig,
): Promise<ConformanceServer> {
  const logger = createJsonLineLogger("warning");
  const { store, kind } = await openSessionStore(config, logger);
  let sessions: SessionManager;
  try {
    sessions = new SessionManager({ store, logger });
  } catch (error) {
    await store.close();
    throw error;
  }
  const mcp = createMcpSessionHandler({
    sessions,
    relay: store.relay,
    createServer: buildFixtureServer,
    // Every SSE event goes to the store's per-session log, so a stream cut short (as the
    // `test_reconnection` tool does) resumes with Last-Event-ID on any instance.
    resumable: true,
    logger,
  });
  const listener = createRequestListener({
    mcp,
    sessions,
    store: kind,
    // Loopback names only, wherever it is bound: the `dns-rebinding-protection` scenario.
    allowedHostnames: LOOPBACK_HOSTNAMES,
    sessionsPerAddress: undefined,
    logger,
  });
  const http = await startHttpServer({
    listener,
    port: config.port,
    host: config.host,
    closeInOrder: [mcp, sessions, store],
  });
  // Announced only once replies and stream events routed here by other instances arrive.
  await mcp.ready();
  return { url: `${http.origin}/mcp`, port: http.port, store: kind, close: () => http.close() };
}
