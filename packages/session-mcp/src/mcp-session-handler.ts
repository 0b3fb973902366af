import type { IncomingMessage, ServerResponse } from "node:http";
import {
  describeError,
  isSessionError,
  isValidSessionId,
  log,
  type SessionRecord,
} from "@mcp-sessions/session-core";
import { initializeParamsOf } from "./initialize-params.js";
import { errorResponse, type Refusal } from "./json-rpc-errors.js";
import { LocalSessions } from "./local-sessions.js";
import { readBody, toWebRequest, writeWebResponse } from "./node-http.js";
import {
  type McpSessionHandlerOptions,
  type ResolvedMcpSessionHandlerOptions,
  resolveOptions,
} from "./options.js";

const LOGGER = "session-mcp/handler";

/**
 * A `node:http` request handler for MCP over Streamable HTTP, with sessions kept in a
 * `SessionManager`. Call it from `http.createServer`, an Express route or a Fastify route.
 */
export interface McpSessionHandler {
  (req: IncomingMessage, res: ServerResponse, parsedBody?: unknown): Promise<void>;
  /** Closes every local transport and server and stops listening for `ended`. Idempotent. */
  close(): Promise<void>;
}

/**
 * Serves MCP sessions from any instance that shares the manager's store.
 *
 * An `initialize` without a session header makes a session (bound to the owner `authenticate`
 * returns) and its transport here. Every other request is checked and touched in the store in
 * one round trip; an unknown, expired, deleted or foreign session is 404. A live session this
 * instance has not seen is adopted: a fresh transport and server, replayed with the stored
 * `initialize`. DELETE ends the session everywhere; every instance closes its transport when it
 * hears `ended`.
 *
 * @example
 * const mcp = createMcpSessionHandler({ createServer: () => buildServer() }); // in-memory sessions
 * http.createServer(mcp).listen(3000, "127.0.0.1");
 */
export function createMcpSessionHandler(options: McpSessionHandlerOptions): McpSessionHandler {
  const resolved = resolveOptions(options);
  const local = new LocalSessions(resolved);
  const inFlight = new Set<Promise<void>>();
  const stopListening = resolved.sessions.on("ended", ({ id }) => local.close(id));
  let closed: Promise<void> | undefined;

  const handler = (req: IncomingMessage, res: ServerResponse, parsedBody?: unknown) => {
    const work = closed
      ? writeWebResponse(res, errorResponse("store-unavailable"))
      : serve(resolved, local, req, res, parsedBody);
    inFlight.add(work);
    return work.finally(() => inFlight.delete(work));
  };
  return Object.assign(handler, {
    close(): Promise<void> {
      closed ??= (async () => {
        stopListening();
        await local.closeAll();
        await Promise.allSettled(inFlight);
        if (resolved.ownsSessions) await resolved.sessions.close();
      })();
      return closed;
    },
  });
}

async function serve(
  options: ResolvedMcpSessionHandlerOptions,
  local: LocalSessions,
  req: IncomingMessage,
  res: ServerResponse,
  parsedBody: unknown,
): Promise<void> {
  const aborted = new AbortController();
  res.once("close", () => aborted.abort());
  let response: Response;
  let session: SessionRecord | undefined;
  try {
    ({ response, session } = await route(options, local, req, parsedBody, aborted.signal));
  } catch (error) {
    response = errorResponse(refusalFor(error));
    if (response.status === 500) {
      log(options.logger, {
        level: "error",
        logger: LOGGER,
        data: { message: "Request failed", error: describeError(error) },
      });
    }
  }
  const written = writeWebResponse(res, response);
  const live = session && local.obtainIfLive(session.id);
  if (live && response.headers.get("content-type")?.startsWith("text/event-stream")) {
    const owner = session?.owner;
    local.trackStream(live, written, keepAliveInterval(options), async () => {
      await options.sessions
        .touch(live.id, owner === undefined ? {} : { owner })
        .then((stillLive) => (stillLive ? undefined : local.close(live.id)))
        .catch((error: unknown) =>
          log(options.logger, {
            level: "warning",
            logger: LOGGER,
            data: { message: "Keep-alive touch failed", error: describeError(error) },
          }),
        );
    });
  }
  await written;
}

async function route(
  options: ResolvedMcpSessionHandlerOptions,
  local: LocalSessions,
  req: IncomingMessage,
  parsedBody: unknown,
  signal: AbortSignal,
): Promise<{ response: Response; session?: SessionRecord }> {
  const { sessions } = options;
  const refuse = (refusal: Refusal) => ({ response: errorResponse(refusal) });
  if (req.method !== "GET" && req.method !== "POST" && req.method !== "DELETE") {
    return refuse("method-not-allowed");
  }
  let owner: string | undefined;
  if (options.authenticate) {
    owner = await options.authenticate(req);
    if (owner === undefined) return refuse("unauthenticated");
  }
  const ownerOption = owner === undefined ? {} : { owner };
  const body = await readBody(req, parsedBody);
  if (body.kind === "too-large") return refuse("body-too-large");
  if (body.kind === "invalid") return refuse("parse-error");
  const request = toWebRequest(req, signal);
  const sessionId = req.headers["mcp-session-id"];

  if (sessionId === undefined) {
    if (body.kind !== "json") return refuse("session-header-required");
    const params = initializeParamsOf(body.value);
    if (params === undefined) return refuse("session-header-required");
    const session = await sessions.create(params, ownerOption);
    try {
      const started = await local.start(session);
      const response = await started.transport.handleRequest(request, { parsedBody: body.value });
      // The SDK refused this initialize (bad headers, version): keep no session for it.
      if (!response.ok) await endSession(options, local, session.id);
      return { response, session };
    } catch (error) {
      await endSession(options, local, session.id);
      throw error;
    }
  }

  if (typeof sessionId !== "string" || !isValidSessionId(sessionId)) {
    return refuse("invalid-session-id");
  }
  // One round trip: it checks existence, expiry and owner, and moves the deadline.
  const session = await sessions.touch(sessionId, ownerOption);
  if (session === undefined) {
    // Expired or deleted: release the local copy now rather than when `ended` arrives.
    await local.closeIfOwnedBy(sessionId, owner);
    return refuse("session-not-found");
  }
  if (req.method === "DELETE") {
    const live = local.obtainIfLive(sessionId);
    const response = live ? await live.transport.handleRequest(request) : new Response(null);
    await endSession(options, local, sessionId);
    return { response };
  }
  const live = await local.obtain(session, request);
  const response = await live.transport.handleRequest(
    request,
    body.kind === "json" ? { parsedBody: body.value } : {},
  );
  return { response, session };
}

async function endSession(
  options: ResolvedMcpSessionHandlerOptions,
  local: LocalSessions,
  id: string,
): Promise<void> {
  await local.close(id);
  await options.sessions.cleanup(id);
}

/** Maps an error from the manager or store to the refusal the client sees. */
function refusalFor(error: unknown): Refusal {
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

/** An open stream touches its session often enough that it cannot idle out: every ttl/3. */
function keepAliveInterval(options: ResolvedMcpSessionHandlerOptions): number {
  return Math.max(1_000, Math.floor(options.sessions.ttl / 3));
}
