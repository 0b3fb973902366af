import type { IncomingHttpHeaders, RequestListener, ServerResponse } from "node:http";
import { describeError, log, type SendLog } from "@mcp-sessions/session-core";
import type { McpSessionHandler } from "@mcp-sessions/session-mcp";

const LOGGER = "conformance-server/http";

/** Host names, without a port, that a loopback server answers to in Host and Origin. */
export const LOOPBACK_HOSTNAMES: readonly string[] = Object.freeze([
  "localhost",
  "127.0.0.1",
  "[::1]",
]);

export interface RoutesOptions {
  readonly mcp: McpSessionHandler;
  readonly logger: SendLog;
}

/**
 * `/mcp` goes to the MCP handler once the request passes the DNS-rebinding check; anything else
 * is 404.
 */
export function createRequestListener(options: RoutesOptions): RequestListener {
  return (req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0];
    if (path !== "/mcp") {
      sendJson(res, 404, { error: "Not found; MCP is served at /mcp" });
      return;
    }
    if (!fromLoopback(req.headers)) {
      // The SDK's JSON-RPC shape for a refused Host or Origin.
      sendJson(res, 403, {
        jsonrpc: "2.0",
        error: { code: -32000, message: "Host and Origin must name a loopback address" },
        id: null,
      });
      return;
    }
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
  };
}

/**
 * Whether Host, and Origin when a browser sent one, name a loopback address, whatever the port.
 * The SDK's `allowedHosts` and `allowedOrigins` compare the port too, which a fleet cannot use:
 * behind its proxy the Host names the instance's port and the Origin the proxy's. A rebinding
 * page keeps its own site as Origin even where a proxy rewrites Host, so it is refused either way.
 */
export function fromLoopback(headers: IncomingHttpHeaders): boolean {
  if (!LOOPBACK_HOSTNAMES.includes(hostnameOf(headers.host))) return false;
  const origin = headers.origin;
  if (origin === undefined) return true;
  try {
    return LOOPBACK_HOSTNAMES.includes(new URL(origin).hostname);
  } catch {
    // `Origin: null` (a sandboxed page) or garbage: no loopback page sends that.
    return false;
  }
}

/** The host name of a Host header, lower-cased, without its port: `[::1]:3000` → `[::1]`. */
function hostnameOf(host: string | undefined): string {
  if (host === undefined) return "";
  const lower = host.toLowerCase();
  if (lower.startsWith("[")) return lower.slice(0, lower.indexOf("]") + 1);
  return lower.split(":", 1)[0] ?? "";
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
