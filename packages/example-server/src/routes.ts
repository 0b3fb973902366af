import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { isSessionError, type SendLog, type SessionManager } from "@mcp-sessions/session-core";
import { describeError, log } from "@mcp-sessions/session-core/store";
import type { McpSessionHandler } from "@mcp-sessions/session-mcp";
import { addressKey } from "./address-key.js";
import { refusedHeader } from "./host-guard.js";
import type { StoreKind } from "./open-session-store.js";
import type { SessionsPerAddress } from "./sessions-per-address.js";

const LOGGER = "example-server/http";

/** What `/healthz` answers: 200 when the store answered, 503 when it did not. */
export type HealthReport =
  | { readonly status: "ok"; readonly store: StoreKind; readonly activeSessions: number }
  | { readonly status: "degraded"; readonly store: StoreKind; readonly error: string };

export interface RoutesOptions {
  readonly mcp: McpSessionHandler;
  readonly sessions: SessionManager;
  readonly store: StoreKind;
  /**
   * Host names (no port) that `/mcp` accepts in the Host header and, when a browser sends one, in
   * the Origin header; `undefined` for any. `allowedHostnamesFor(host)` gives a server bound to
   * loopback only loopback names, so a web page cannot reach it through DNS rebinding.
   */
  readonly allowedHostnames: readonly string[] | undefined;
  /** Caps the sessions each client address makes, or `undefined` for no cap. */
  readonly sessionsPerAddress: SessionsPerAddress | undefined;
  readonly logger: SendLog;
}

/** `/mcp` goes to the MCP handler, `/healthz` reports the store, anything else is 404. */
export function createRequestListener(options: RoutesOptions): RequestListener {
  return (req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path === "/mcp") {
      serveMcp(options, req, res);
    } else if (path === "/healthz") {
      void serveHealth(options, req, res);
    } else {
      sendJson(res, 404, { error: "Not found; MCP is served at /mcp and health at /healthz" });
    }
  };
}

function serveMcp(options: RoutesOptions, req: IncomingMessage, res: ServerResponse): void {
  const refused = refusedHeader(options.allowedHostnames, req.headers);
  if (refused !== undefined) {
    // The SDK's JSON-RPC shape and wording for a refused Host or Origin header.
    sendJson(res, 403, {
      jsonrpc: "2.0",
      error: { code: -32000, message: `Invalid ${refused} header` },
      id: null,
    });
    return;
  }
  const serve = () =>
    options.mcp(req, res).catch((error: unknown) => {
      // The handler answers every failure itself; reaching here is a bug in it, so say so.
      log(options.logger, {
        level: "error",
        logger: LOGGER,
        data: { message: "MCP handler rejected", error: describeError(error) },
      });
      if (!res.headersSent) sendJson(res, 500, { error: "Internal error" });
      else res.destroy();
    });
  const { sessionsPerAddress } = options;
  // A POST without a session id is an initialize, or refused as one: only these make sessions.
  if (
    sessionsPerAddress === undefined ||
    req.method !== "POST" ||
    req.headers["mcp-session-id"] !== undefined
  ) {
    void serve();
    return;
  }
  const address = addressKey(req.socket.remoteAddress);
  void sessionsPerAddress.serveInitialize(address, serve).then((served) => {
    if (served) return;
    sendJson(res, 429, {
      jsonrpc: "2.0",
      error: {
        code: -32000,
        message: "Too many sessions from this address; end one (DELETE) or wait until one expires",
      },
      id: null,
    });
  });
}

async function serveHealth(
  options: RoutesOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    sendJson(res, 405, { error: "Method not allowed; use GET" });
    return;
  }
  const report = await healthReport(options);
  sendJson(res, report.status === "ok" ? 200 : 503, report);
}

/** Counts live sessions in the store; a store that fails to answer makes the server degraded. */
export async function healthReport(
  options: Pick<RoutesOptions, "sessions" | "store" | "logger">,
): Promise<HealthReport> {
  try {
    const activeSessions = await options.sessions.getActiveSessionCount();
    return { status: "ok", store: options.store, activeSessions };
  } catch (error) {
    log(options.logger, {
      level: "warning",
      logger: LOGGER,
      data: { message: "Health check: the store did not answer", error: describeError(error) },
    });
    // STORE_UNAVAILABLE (Redis down or slow) or STORE_CLOSED (shutting down); never the message,
    // which may name hosts.
    return {
      status: "degraded",
      store: options.store,
      error: isSessionError(error) ? error.code : "INTERNAL",
    };
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}
