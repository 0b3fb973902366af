import type { JsonValue, SessionMetadata } from "@mcp-sessions/session-core";
import { isInitializeRequest, LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";

/** What the store keeps of a client's `initialize`, so any instance can replay it. */
export interface StoredInitialize extends SessionMetadata {
  protocolVersion: string;
  capabilities: { [key: string]: JsonValue };
  clientInfo: { [key: string]: JsonValue };
}

/**
 * The params of `body` when it is one `initialize` request, as session metadata: the client's
 * own objects, not yet checked beyond the SDK's schema. `SessionManager.create` checks them
 * (plain JSON, depth, size) and copies them before anything is stored.
 */
export function initializeParamsOf(body: unknown): StoredInitialize | undefined {
  // The schema does not descend into the values it passes through, so any depth is safe here.
  if (!isInitializeRequest(body)) return undefined;
  const { protocolVersion, capabilities, clientInfo } = body.params;
  // No copy of our own: one made here recursed before the manager's check could refuse a deep
  // value, and 5,000 levels overflowed the stack (a 500 for a client's mistake).
  return { protocolVersion, capabilities, clientInfo } as StoredInitialize;
}

/** The headers every synthetic request carries: the ones a Streamable HTTP client sends. */
function syntheticHeaders(host: string | null, sessionId?: string): Headers {
  const headers = new Headers({
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
  });
  // The client's own Host: with `enableDnsRebindingProtection`, the transport checks it against
  // `allowedHosts` on every request, the replayed ones included.
  if (host !== null) headers.set("host", host);
  // No mcp-protocol-version: the negotiated one may differ from the requested one, and the SDK
  // accepts a request without the header (sdk-assumptions: ADOPTION_REPLAY).
  if (sessionId !== undefined) headers.set("mcp-session-id", sessionId);
  return headers;
}

/**
 * The two requests that bring a fresh transport and server to where the client's own
 * `initialize` left them on the instance that made the session: `initialize` with the stored
 * params, then `notifications/initialized`, both to the URL and Host of `origin`, the client's
 * request that needs the session. They go through the transport's public `handleRequest`, so the
 * SDK restores the client's capabilities and the negotiated version by itself.
 */
export function replayRequests(
  origin: Request,
  sessionId: string,
  stored: SessionMetadata | undefined,
): { initialize: Request; initialized: Request } {
  const url = new URL(origin.url);
  const host = origin.headers.get("host");
  const params = isStoredInitialize(stored)
    ? stored
    : { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: {} };
  const initialize = new Request(url, {
    method: "POST",
    headers: syntheticHeaders(host),
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: "mcp-sessions/adopt",
      method: "initialize",
      params: {
        protocolVersion: params.protocolVersion,
        capabilities: params.capabilities,
        clientInfo: params.clientInfo,
      },
    }),
  });
  const initialized = new Request(url, {
    method: "POST",
    headers: syntheticHeaders(host, sessionId),
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
  });
  return { initialize, initialized };
}

function isStoredInitialize(metadata: SessionMetadata | undefined): metadata is StoredInitialize {
  return (
    typeof metadata?.protocolVersion === "string" &&
    typeof metadata.capabilities === "object" &&
    metadata.capabilities !== null &&
    typeof metadata.clientInfo === "object" &&
    metadata.clientInfo !== null
  );
}
