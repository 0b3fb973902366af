import { MAX_BATCH_SIZE, MAX_BODY_DEPTH } from "./request-limits.js";

/**
 * Why a request cannot reach a transport, or what became of one that went to another instance. Each maps to one HTTP status and JSON-RPC error, in the
 * SDK's shape, in `errorResponse` and nowhere else.
 */
export type Refusal =
  | "session-not-found"
  | "session-header-required"
  | "invalid-session-id"
  | "parse-error"
  | "invalid-message"
  | "batch-too-large"
  | "body-too-deep"
  | "invalid-initialize"
  | "body-too-large"
  | "unauthenticated"
  | "capacity"
  | "store-unavailable"
  | "method-not-allowed"
  | "not-acceptable"
  | "unknown-event-id"
  | "reply-undeliverable"
  | "internal";

const REFUSALS: Readonly<
  Record<Refusal, readonly [status: number, code: number, message: string]>
> = {
  "session-not-found": [404, -32001, "Session not found"],
  "session-header-required": [400, -32000, "Bad Request: Mcp-Session-Id header is required"],
  "invalid-session-id": [
    400,
    -32000,
    "Bad Request: Mcp-Session-Id must be 1 to 256 visible ASCII characters",
  ],
  "parse-error": [400, -32700, "Parse error: Invalid JSON"],
  // The next two are the SDK transport's own answers, word for word.
  "invalid-message": [400, -32700, "Parse error: Invalid JSON-RPC message"],
  "batch-too-large": [
    400,
    -32600,
    `Invalid Request: Batch must not exceed ${MAX_BATCH_SIZE} messages`,
  ],
  "body-too-deep": [
    400,
    -32600,
    `Invalid Request: the body nests deeper than ${MAX_BODY_DEPTH} levels`,
  ],
  "invalid-initialize": [
    400,
    -32602,
    "Invalid params: initialize params must be plain JSON within the metadata limit",
  ],
  "body-too-large": [413, -32000, "Payload Too Large: the body exceeds 4 MB"],
  unauthenticated: [401, -32000, "Unauthorized"],
  capacity: [503, -32000, "Service Unavailable: session limit reached; retry later"],
  "store-unavailable": [503, -32000, "Service Unavailable: session store unreachable; retry later"],
  "method-not-allowed": [405, -32000, "Method not allowed."],
  "not-acceptable": [406, -32000, "Not Acceptable: Client must accept text/event-stream"],
  "unknown-event-id": [
    400,
    -32000,
    "Bad Request: Last-Event-ID is not an event of this session that is still kept",
  ],
  "reply-undeliverable": [
    410,
    -32000,
    "Gone: the server instance whose request this answers has stopped",
  ],
  internal: [500, -32603, "Internal error"],
};

/** The JSON-RPC error response for `refusal`. An outage is a 503, never a 404. */
export function errorResponse(refusal: Refusal): Response {
  const [status, code, message] = REFUSALS[refusal];
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (refusal === "method-not-allowed") headers.Allow = "GET, POST, DELETE";
  if (status === 503) headers["Retry-After"] = "1";
  // The rest of an oversized body is still in flight and never read: a connection reused after
  // it would hang, so Node closes this one once the response is out.
  if (refusal === "body-too-large") headers.Connection = "close";
  return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }), {
    status,
    headers,
  });
}
