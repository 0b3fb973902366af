import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { defaultSendLog, SessionManager, unrefTimeout } from "@mcp-sessions/session-core";
import { createMcpSessionHandler } from "@mcp-sessions/session-mcp";
import { MemorySessionStore } from "@mcp-sessions/session-memory";
import { RedisSessionStore } from "@mcp-sessions/session-redis";
import type { ConformanceServerConfig } from "./config.js";
import { buildFixtureServer } from "./fixture-server.js";
import { createRequestListener } from "./routes.js";

/** How long `close()` lets open connections finish before it cuts them, in ms. */
const CLOSE_GRACE_MS = 1_000;

/** Which session store backs the server. */
export type StoreKind = "memory" | "redis";

/** A running conformance fixture server. */
export interface ConformanceServer {
  /** The MCP endpoint, such as `http://127.0.0.1:3000/mcp`, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  readonly store: StoreKind;
  /**
   * Stops accepting connections, closes every session's transport on this instance, then the
   * session manager and its store, then the HTTP server; connections still open after a short
   * grace are cut. Sessions in Redis live on for the rest of the fleet. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Starts the fixture at `/mcp` on `createMcpSessionHandler`: sessions in memory, or in Redis
 * when `redisUrl` is set, so that several processes with one prefix serve as one fleet.
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
  const logger = defaultSendLog;
  const { store, kind } = await openStore(config);
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
  const http = createServer(createRequestListener({ mcp, logger }));
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
  const urlHost = config.host.includes(":") ? `[${config.host}]` : config.host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}/mcp`,
    port,
    store: kind,
    close() {
      closing ??= (async () => {
        const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeIdleConnections();
        try {
          // Closing each session's server ends its SSE streams, so their connections can finish.
          await mcp.close();
          await sessions.close();
        } finally {
          // The connections those streams used are idle now; a keep-alive would hold them open.
          http.closeIdleConnections();
          const cut = unrefTimeout(() => http.closeAllConnections(), CLOSE_GRACE_MS);
          await httpClosed;
          clearTimeout(cut);
        }
      })();
      return closing;
    },
  };
}

async function openStore(
  config: ConformanceServerConfig,
): Promise<{ store: MemorySessionStore | RedisSessionStore; kind: StoreKind }> {
  if (config.redisUrl === undefined) return { store: new MemorySessionStore(), kind: "memory" };
  const store = new RedisSessionStore({ url: config.redisUrl, prefix: config.redisPrefix });
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
