import { isSessionError } from "@mcp-sessions/session-core";
import { MAX_BODY_DEPTH } from "./request-limits.js";
import { ALLOWED_METHODS, SDK_REFUSALS } from "./sdk-assumptions.js";

/**
 * Why a request cannot reach a transport, or what became of one that went to another instance.
 * Each maps to one HTTP status and JSON-RPC error, in the SDK's shape, in `errorResponse` and
 * nowhere else.
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
  // Where the transport has an answer of its own, the client gets it word for word.
  ...SDK_REFUSALS,
  "invalid-session-id": [
    400,
    -32000,
    "Bad Request: Mcp-Session-Id must be 1 to 256 visible ASCII characters",
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
  if (refusal === "method-not-allowed") headers.Allow = ALLOWED_METHODS;
  if (status === 503) headers["Retry-After"] = "1";
  // The rest of an oversized body is still in flight and never read: a connection reused after
  // it would hang, so Node closes this one once the response is out.
  if (refusal === "body-too-large") headers.Connection = "close";
  return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }), {
    status,
    headers,
  });
}

/** Maps an error from the manager or store to the refusal the client sees. */
export function refusalFor(error: unknown): Refusal {
  if (!isSessionError(error)) return "internal";
  switch (error.code) {
    case "SESSION_LIMIT_REACHED":
      return "capacity";
    case "STORE_UNAVAILABLE":
    case "STORE_CLOSED":
      return "store-unavailable";
    case "INVALID_METADATA":
      return "invalid-initialize";
    case "INVALID_SESSION_ID":
      return "invalid-session-id";
    default:
      return "internal";
  }
}
