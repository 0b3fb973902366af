import type { IncomingMessage, ServerResponse } from "node:http";
import type { SendLog } from "@mcp-sessions/session-core";
import { describeError, log } from "@mcp-sessions/session-core/store";
import { MemoryRelay } from "@mcp-sessions/session-memory";
import { Fleet } from "./fleet.js";
import { discardSession, type HandlerContext, releaseSession } from "./handler-context.js";
import { errorResponse, refusalFor } from "./json-rpc-errors.js";
import { keepAliveWhileOpen } from "./keep-alive-while-open.js";
import { LocalReconciler } from "./local-reconciler.js";
import { LocalSessions } from "./local-sessions.js";
import { toWebRequest, writeWebResponse } from "./node-http.js";
import { type McpSessionHandlerOptions, resolveOptions } from "./options.js";
import { readNodeBody, readWebBody } from "./request-body.js";
import { isServedMethod, type Outcome, type RouteInput, route } from "./route.js";
import { isEventStream, watchBody } from "./watch-body.js";

const LOGGER = "session-mcp/handler";

/** Per-request options of `fetch`. */
export interface McpFetchOptions {
  /**
   * The authenticated user, when your own middleware authenticated the request: the session is
   * bound to it, and `authenticate` is not called. Given as `undefined` (the middleware found
   * nobody), the request is refused with 401.
   * @default the result of `authenticate`, or no owner binding without it
   */
  readonly owner?: string | undefined;
  /** The body, when a framework already parsed it; otherwise the handler reads `request.body`. */
  readonly parsedBody?: unknown;
}

/**
 * MCP over Streamable HTTP, with sessions kept in a `SessionManager`. `fetch` is the handler;
 * called as a function, it is the same handler for `node:http`, Express and Fastify.
 */
export interface McpSessionHandler {
  /** Serves a Node request: `http.createServer(mcp)`, or from an Express or Fastify route. */
  (req: IncomingMessage, res: ServerResponse, parsedBody?: unknown): Promise<void>;
  /**
   * Answers a web `Request`: from Hono, a Worker-style `fetch` server or a composition in front
   * of another handler. A client that goes away aborts `request.signal`.
   */
  fetch(request: Request, options?: McpFetchOptions): Promise<Response>;
  /**
   * Resolves once other instances can reach this one: replies and stream events routed here
   * arrive. Await it before announcing the instance to a load balancer. Never rejects; while the
   * store's backend is down at start-up it waits for it.
   */
  ready(): Promise<void>;
  /**
   * Closes every local transport and server and stops listening for `ended`; later requests get
   * 503. Idempotent.
   */
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
  // A store only this process sees needs no shared relay: this process's own serves, and a
  // session's log goes when the session's transport here does.
  const inProcessRelay =
    resolved.relay === undefined
      ? new MemoryRelay({
          isLive: (id) => local.obtainIfLive(id) !== undefined,
          logger: resolved.logger,
        })
      : undefined;
  const fleet = new Fleet({
    relay: resolved.relay ?? (inProcessRelay as MemoryRelay),
    resumable: resolved.resumable,
    keepAliveMs: resolved.transport.keepAliveMs,
    logger: resolved.logger,
  });
  const local = new LocalSessions({ ...resolved, fleet });
  let closed: Promise<void> | undefined;
  const context: HandlerContext = {
    options: resolved,
    local,
    fleet,
    inProcessRelay,
    isClosed: () => closed !== undefined,
  };
  const inFlight = new Set<Promise<unknown>>();
  const stopListening = resolved.sessions.on("ended", ({ id }) => releaseSession(context, id));
  const reconciler = new LocalReconciler({
    sessions: resolved.sessions,
    localIds: () => local.ids(),
    release: (id) => releaseSession(context, id),
    logger: resolved.logger,
  });
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    return work.finally(() => inFlight.delete(work));
  };

  const node = (req: IncomingMessage, res: ServerResponse, parsedBody?: unknown) =>
    track(serveNode(context, req, res, parsedBody));
  return Object.assign(node, {
    fetch: (request: Request, fetchOptions: McpFetchOptions = {}): Promise<Response> => {
      const input: RouteInput = {
        ...("owner" in fetchOptions ? { owner: { value: fetchOptions.owner } } : {}),
        readBody: () => readWebBody(request, fetchOptions.parsedBody),
      };
      return track(
        answer(context, request, input).then(
          (response) => response ?? errorResponse("parse-error"),
        ),
      );
    },
    ready: () => fleet.member.ready,
    close(): Promise<void> {
      closed ??= (async () => {
        stopListening();
        await reconciler.close();
        await local.closeAll();
        await fleet.close();
        inProcessRelay?.clear();
        await Promise.allSettled(inFlight);
        if (resolved.ownedStore !== undefined) {
          await resolved.sessions.close();
          await resolved.ownedStore.close();
        }
      })();
      return closed;
    },
  });
}

/**
 * Answers one request, whichever face received it. `undefined`: the client went away before its
 * body was in, and there is nobody to answer. An SSE answer keeps its session alive while its
 * body is open, and a session whose `initialize` answer found the client gone is discarded.
 */
async function answer(
  context: HandlerContext,
  request: Request,
  input: RouteInput,
): Promise<Response | undefined> {
  const { options } = context;
  if (context.isClosed()) return errorResponse("store-unavailable");
  let outcome: Outcome;
  try {
    outcome = await route(context, request, input);
  } catch (error) {
    outcome = { response: errorResponse(refusalFor(error)) };
    if (outcome.response.status === 500) {
      log(options.logger, {
        level: "error",
        logger: LOGGER,
        data: { message: "Request failed", error: describeError(error) },
      });
    }
  }
  if ("aborted" in outcome) {
    logClientGone(options.logger, "before its body arrived", outcome.aborted);
    return undefined;
  }
  const { response, session } = outcome;
  if (request.signal.aborted) {
    // Nothing reaches the client then; the face cancels the body, which releases an SDK stream
    // (sdk-assumptions: ONE_STANDALONE_STREAM).
    logClientGone(options.logger, "before its response");
    if (session && outcome.created) await discardSession(context, session);
  }
  if (!session || response.body === null || !isEventStream(response)) return response;
  const { body, settled } = watchBody(response.body);
  keepAliveWhileOpen(context, session, settled);
  const { status, headers } = response;
  return new Response(body, { status, headers });
}

/** The Node face: the request becomes a body-less web `Request`, and the answer is written back. */
async function serveNode(
  context: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
  parsedBody: unknown,
): Promise<void> {
  // `new Request` refuses some methods (CONNECT, TRACE), so they are answered before it.
  if (!isServedMethod(req.method)) {
    await writeWebResponse(res, errorResponse("method-not-allowed"));
    return;
  }
  const gone = new AbortController();
  res.once("close", () => gone.abort());
  const request = toWebRequest(req, gone.signal);
  const response = await answer(context, request, {
    readBody: () => readNodeBody(req, parsedBody),
    node: req,
  });
  if (response) await writeWebResponse(res, response);
}

/**
 * A client hung up. Anyone can, so it is logged at debug: at error, it would let any client
 * flood the log with what is no server fault.
 */
function logClientGone(logger: SendLog, when: string, error?: unknown): void {
  log(logger, {
    level: "debug",
    logger: LOGGER,
    data: {
      message: `The client went away ${when}`,
      ...(error === undefined ? {} : { error: describeError(error) }),
    },
  });
}
