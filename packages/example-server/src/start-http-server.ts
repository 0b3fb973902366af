import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { unrefTimeout } from "@mcp-sessions/session-core/store";

/** How long `close()` lets open connections finish before it cuts them, in ms. */
const CLOSE_GRACE_MS = 1_000;
/** How often Node checks the request timeouts, in ms; Node's own 30 s would let them run late. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/** What {@link startHttpServer} serves, and where. */
export interface HttpServerOptions {
  /** Answers every request. */
  readonly listener: RequestListener;
  /** The port to bind; `0` picks a free one. */
  readonly port: number;
  /** The address to bind, such as `127.0.0.1` or `::1`. */
  readonly host: string;
  /**
   * Longest time a client may take to send a whole request, headers and body, in ms; a slower
   * one gets 408. Responses (SSE streams) are not limited. @default Node's own (300 s)
   */
  readonly requestTimeoutMs?: number;
  /**
   * What serves the requests, closed one after the other while no new connection is accepted:
   * the MCP handler first (closing each session's server ends its SSE streams, so their
   * connections can finish), then the session manager. They are also closed when the port cannot
   * be bound, so the caller has nothing left to close then.
   */
  readonly closeInOrder: readonly { close(): Promise<void> }[];
}

/** A listening HTTP server. */
export interface HttpServer {
  /** The origin with the port actually bound, such as `http://127.0.0.1:3000`. */
  readonly origin: string;
  readonly port: number;
  /**
   * Stops accepting connections, closes `closeInOrder`, then waits for the connections to end;
   * those still open after a one-second grace are cut. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Listens on `host:port` and resolves once the port is bound; `close()` shuts down in the order
 * that lets a server with open SSE streams exit at once.
 * @throws the `listen` error, such as `EADDRINUSE`, once `closeInOrder` is closed.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { requestTimeoutMs } = options;
  const http = createServer(
    requestTimeoutMs === undefined
      ? {}
      : {
          // Node's defaults let a client take 300 s to send a request, so a stalled body could
          // hold its buffer (up to 4 MB) for 5 minutes. An MCP request is one JSON-RPC message,
          // sent at once. These bound only receiving requests: an SSE stream is a long response
          // to a short request, and stays open as long as it likes.
          requestTimeout: requestTimeoutMs,
          headersTimeout: requestTimeoutMs,
          connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS, requestTimeoutMs),
        },
    options.listener,
  );
  const closeApp = async () => {
    for (const part of options.closeInOrder) await part.close();
  };
  try {
    await listen(http, options.port, options.host);
  } catch (error) {
    await closeApp();
    throw error;
  }
  const { port } = http.address() as AddressInfo;
  const urlHost = options.host.includes(":") ? `[${options.host}]` : options.host;

  let closing: Promise<void> | undefined;
  return {
    origin: `http://${urlHost}:${port}`,
    port,
    close() {
      closing ??= (async () => {
        const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeIdleConnections();
        // Armed first: the MCP handler waits for the requests in flight, and one whose client
        // stalls mid-body would otherwise hold the shutdown until its request timeout.
        const cut = unrefTimeout(() => http.closeAllConnections(), CLOSE_GRACE_MS);
        try {
          await closeApp();
        } finally {
          // The connections the SSE streams used are idle now; a keep-alive would hold them open.
          http.closeIdleConnections();
          await httpClosed;
          clearTimeout(cut);
        }
      })();
      return closing;
    },
  };
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
