import type { JSONRPCRequest, RequestId } from "@modelcontextprotocol/sdk/types.js";
import type { MessageKind } from "./json-rpc.js";

/*
 * Everything session-mcp assumes about `@modelcontextprotocol/sdk` beyond its types: values
 * copied from it, rules of its transport and `Protocol` that the fleet re-implements, and
 * behaviours the handler relies on. Each entry says where in the SDK (1.32.2, `dist/esm/…`) it
 * comes from. `test/sdk-assumptions.test.ts` checks every entry against the installed SDK, in a
 * test of the same name, so an SDK release that changes one fails there, by name, before it
 * fails anywhere else. No other file in src/ copies an SDK detail.
 *
 * Behaviours with no value to copy, and what relies on each:
 *
 * - REQUEST_STREAM_IDS. The transport gives each POST's SSE stream a fresh `crypto.randomUUID()`
 *   and passes it to `EventStore.storeEvent` with every event of that stream, the priming event
 *   included (`handlePostRequest`, `send`). So a request stream never collides with
 *   `STANDALONE_STREAM_ID`, and the stream an event id names (`fleet-ids.ts`) is the one the
 *   request's later events are stored under, which is what a resume holds (`Fleet.resume`).
 * - EVENTS_OUTLIVE_CONNECTION. The transport stores a request stream's events, its response
 *   included, after the client's connection for it closed (`send`: "Store the event even if the
 *   stream is disconnected"). A cut POST stream resumed on another instance gets them from the
 *   log. 1.25.0 dropped them; this is why the peer floor is 1.32.2 (see the README).
 * - REPLAY_ONLY_ON_GET. The transport calls `EventStore.replayEventsAfter` only for a GET with
 *   `Last-Event-ID` (`handleGetRequest` → `replayEvents`). The handler answers every such GET
 *   itself, before a transport, so `RelayEventStore.replayEventsAfter` never runs.
 * - ADOPTION_REPLAY. A fresh transport takes an `initialize` with no `Mcp-Session-Id` and no
 *   `Mcp-Protocol-Version`, names the session with `sessionIdGenerator`, and ends the response
 *   once the result is written; `notifications/initialized` then gets 202. The server reports
 *   the replayed client capabilities and version from then on (`Server._oninitialize`).
 *   `LocalSessions.obtain` adopts a session this way (`initialize-params.ts` builds the replay).
 * - ALREADY_INITIALIZED. An `initialize` on an initialized transport gets 400, -32600, "Invalid
 *   Request: Server already initialized". A client's `initialize` with a live session's header
 *   reaches the transport and gets that (the README's error table).
 * - PARSED_BODY. With `parsedBody`, `handleRequest` never reads the request's body: the handler
 *   reads and checks every body itself and passes a `Request` without one (`node-http.ts`).
 * - BODY_ALL_OR_NOTHING. The transport parses every message of a POST with
 *   `JSONRPCMessageSchema` and refuses the whole body, handing none to the server, if one
 *   fails. So the fleet routes nothing of a body with such a message (`Fleet.routeFromClient`).
 * - ONE_STANDALONE_STREAM. A second GET stream on one transport gets 409; cancelling the first
 *   one's body releases it. The Node face (`writeWebResponse`) cancels the body when the client
 *   goes away; a `fetch` caller cancels it itself, and `watchBody` passes that on.
 * - DELETE_CLOSES. A DELETE gets 200 and closes the transport, which fires its `onclose`.
 * - ONCLOSE_CHAINED. `Protocol.connect` keeps an `onclose` set on the transport before it, and
 *   calls it before its own. `LocalSessions` sets it first to forget a closed session.
 * - SERVER_CLOSE_CLOSES_TRANSPORT. `server.close()` closes its transport and every stream of it,
 *   and a closed transport answers 404, -32001. `LocalSessions` closes a session this way.
 * - CANCELLATION_BY_ID. A server request that is aborted or times out sends
 *   `notifications/cancelled` with `params.requestId` its own id (`Protocol.request`). The
 *   fleet rewrites that id as it rewrites the request's (`FleetTransport`).
 * - ERROR_REPLY_FAILS_REQUEST. An error response handed to the transport's `onmessage` rejects
 *   the server's pending request of that id with an `McpError` of its code. `FleetTransport`
 *   fails the requests still waiting when a session ends this way.
 */

/**
 * The SDK's stream id of the client's standalone GET stream (`_standaloneSseStreamId`). The
 * fleet writes that stream's events itself, under the same id: request streams (random UUIDs)
 * never collide with it, and an event the SDK ever stores for it lands on the same stream of
 * the log. Also in every standalone `Last-Event-ID` a client holds, so it stays as it is.
 */
export const STANDALONE_STREAM_ID = "_GET_stream";

/**
 * The largest POST body the transport reads: 4 MiB, `DEFAULT_MAX_REQUEST_BODY_SIZE` in
 * `server/requestBody.js`. The handler reads every body itself (it routes messages before a
 * transport sees them), so it refuses what the transport would.
 */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** Most messages in one JSON-RPC batch the transport takes: `MAX_BATCH_SIZE`, `server/requestBody.js`. */
export const MAX_BATCH_SIZE = 100;

/**
 * The transport's own answers, word for word (`createJsonErrorResponse` calls and
 * `handleUnsupportedRequest`), as `[status, JSON-RPC code, message]`. The handler gives them
 * where it refuses a request before any transport, so a client sees one server either way.
 */
export const SDK_REFUSALS = {
  "session-not-found": [404, -32001, "Session not found"],
  "session-header-required": [400, -32000, "Bad Request: Mcp-Session-Id header is required"],
  "parse-error": [400, -32700, "Parse error: Invalid JSON"],
  "invalid-message": [400, -32700, "Parse error: Invalid JSON-RPC message"],
  "batch-too-large": [
    400,
    -32600,
    `Invalid Request: Batch must not exceed ${MAX_BATCH_SIZE} messages`,
  ],
  "method-not-allowed": [405, -32000, "Method not allowed."],
  "not-acceptable": [406, -32000, "Not Acceptable: Client must accept text/event-stream"],
} as const satisfies Record<string, readonly [status: number, code: number, message: string]>;

/**
 * True when the transport takes a GET with these headers for an SSE stream, false when it
 * answers 406 (`handleGetRequest`: `Accept` must contain `text/event-stream`, as a substring).
 */
export function acceptsEventStream(headers: Headers): boolean {
  return headers.get("accept")?.includes("text/event-stream") ?? false;
}

/** The `Allow` header of the transport's 405. */
export const ALLOWED_METHODS = "GET, POST, DELETE";

/** The headers of the transport's SSE responses (`handleGetRequest`, `replayEvents`). */
export function sseHeaders(sessionId: string): Record<string, string> {
  return {
    "Content-Type": "text/event-stream",
    "Cache-Control": "no-cache, no-transform",
    Connection: "keep-alive",
    "X-Accel-Buffering": "no",
    "mcp-session-id": sessionId,
  };
}

/**
 * One SSE event as the transport writes it (`writeSSEEvent`). The id is written as the event
 * store returned it, and a client sends it back as `Last-Event-ID` unchanged: its format is the
 * store's own (`fleet-ids.ts`).
 */
export function sseEvent(message: object, eventId?: string): string {
  const id = eventId ? `id: ${eventId}\n` : "";
  return `event: message\n${id}data: ${JSON.stringify(message)}\n\n`;
}

/** The comment the transport writes on a quiet SSE stream (`startKeepAlive`). */
export const SSE_KEEP_ALIVE = ": keepalive\n\n";

/** The transport's `keepAliveMs` when none is given: `DEFAULT_SSE_KEEP_ALIVE_MS`, `server/sseKeepAlive.js`. */
export const DEFAULT_KEEP_ALIVE_MS = 15_000;

/**
 * The interval at which the transport writes `SSE_KEEP_ALIVE` for a `keepAliveMs` option, or
 * `undefined` for none (`armSseKeepAlive`: a value that is not finite or below 1 turns it off;
 * the timer is clamped to 2^31−1 ms). Streams the fleet writes itself keep the same rhythm.
 */
export function keepAliveIntervalMs(keepAliveMs: number | undefined): number | undefined {
  const interval = keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS;
  if (!Number.isFinite(interval) || interval < 1) return undefined;
  return Math.min(interval, 2 ** 31 - 1);
}

/**
 * True for the transport's priming event: the empty message it stores first on a request stream
 * for clients on 2025-11-25 or later (`writePrimingEvent`), and writes itself, as an id with no
 * data. A replay carries no message for it.
 */
export function isPrimingEvent(message: object): boolean {
  return Object.keys(message).length === 0;
}

/**
 * Where the transport's `send` puts a message: on a request's stream when it is a response (by
 * its id) or is sent with `relatedRequestId`, else on the standalone GET stream. The fleet
 * sends the latter itself, as that stream may be open on another instance.
 */
export function goesOnStandaloneStream(
  kind: MessageKind,
  relatedRequestId: RequestId | undefined,
): boolean {
  return relatedRequestId === undefined && kind !== "response";
}

/**
 * True when `message` ends the request stream it is written on: the transport closes a POST's
 * stream once it carried the response (`send`). That holds for a POST of one request, which is
 * what every client sends; the transport keeps a batch's stream open until its last response,
 * and a batch stream resumed on another instance ends after its first.
 */
export function endsRequestStream(kind: MessageKind): boolean {
  return kind === "response";
}

/**
 * True for the id of a server's request to the client: `Protocol.request` numbers them 0, 1, 2…
 * per server, which is why the fleet makes them fleet-wide (`routedRequestId`).
 */
export function isSdkRequestId(id: RequestId): id is number {
  return typeof id === "number";
}

/**
 * True when a server request's progress token is its own id: `Protocol.request` sets
 * `_meta.progressToken` to the request id when the caller passes `onprogress`.
 */
export function usesOwnIdAsProgressToken(request: JSONRPCRequest): boolean {
  return request.params?._meta?.progressToken === request.id;
}
