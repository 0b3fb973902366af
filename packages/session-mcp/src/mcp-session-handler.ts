import type { IncomingMessage, ServerResponse } from "node:http";
import {
  describeError,
  isSessionError,
  isValidSessionId,
  log,
  type SendLog,
  type SessionRecord,
  unrefTimeout,
} from "@mcp-sessions/session-core";
import { MemoryRelay } from "@mcp-sessions/session-memory";
import { Fleet } from "./fleet.js";
import { initializeParamsOf } from "./initialize-params.js";
import { errorResponse, type Refusal } from "./json-rpc-errors.js";
import { LocalReconciler } from "./local-reconciler.js";
import { LocalSessions } from "./local-sessions.js";
import { readBody, toWebRequest, writeWebResponse } from "./node-http.js";
import {
  type McpSessionHandlerOptions,
  type ResolvedMcpSessionHandlerOptions,
  resolveOptions,
} from "./options.js";
import { bodyRefusal } from "./request-limits.js";

const LOGGER = "session-mcp/handler";

/**
 * A `node:http` request handler for MCP over Streamable HTTP, with sessions kept in a
 * `SessionManager`. Call it from `http.createServer`, an Express route or a Fastify route.
 */
export interface McpSessionHandler {
  (req: IncomingMessage, res: ServerResponse, parsedBody?: unknown): Promise<void>;
  /**
   * Resolves once other instances can reach this one: replies and stream events routed here
   * arrive. Await it before announcing the instance to a load balancer. Never rejects; while the
   * store's backend is down at start-up it waits for it.
   */
  ready(): Promise<void>;
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
    // Deliveries are asynchronous, so none arrives before `local` below exists.
    onRouted: (id, message) => local.deliver(id, message),
  });
  const local = new LocalSessions({ ...resolved, fleet });
  const context: Context = { options: resolved, local, fleet, inProcessRelay };
  const inFlight = new Set<Promise<void>>();
  const stopListening = resolved.sessions.on("ended", ({ id }) => releaseSession(context, id));
  const reconciler = new LocalReconciler({
    sessions: resolved.sessions,
    localIds: () => local.ids(),
    release: (id) => releaseSession(context, id),
    logger: resolved.logger,
  });
  let closed: Promise<void> | undefined;

  const handler = (req: IncomingMessage, res: ServerResponse, parsedBody?: unknown) => {
    const work = closed
      ? writeWebResponse(res, errorResponse("store-unavailable"))
      : serve(context, req, res, parsedBody);
    inFlight.add(work);
    return work.finally(() => inFlight.delete(work));
  };
  return Object.assign(handler, {
    ready: () => fleet.member.ready,
    close(): Promise<void> {
      closed ??= (async () => {
        stopListening();
        await reconciler.close();
        await context.local.closeAll();
        await fleet.close();
        inProcessRelay?.clear();
        await Promise.allSettled(inFlight);
        if (resolved.ownsSessions) await resolved.sessions.close();
      })();
      return closed;
    },
  });
}

/** What every request of one handler works with. */
interface Context {
  readonly options: ResolvedMcpSessionHandlerOptions;
  readonly local: LocalSessions;
  readonly fleet: Fleet;
  /** The handler's own relay, for a store no other process sees. */
  readonly inProcessRelay: MemoryRelay | undefined;
}

async function serve(
  context: Context,
  req: IncomingMessage,
  res: ServerResponse,
  parsedBody: unknown,
): Promise<void> {
  const { options } = context;
  const aborted = new AbortController();
  res.once("close", () => aborted.abort());
  let outcome: Outcome;
  try {
    outcome = await route(context, req, parsedBody, aborted.signal);
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
    return;
  }
  const { response, session } = outcome;
  if (res.destroyed) {
    // Nothing is written then: `writeWebResponse` cancels the body, which closes an SDK stream.
    logClientGone(options.logger, "before its response");
    if (session && outcome.created) await discardSession(context, session);
  }
  const written = writeWebResponse(res, response);
  if (session && response.headers.get("content-type")?.startsWith("text/event-stream")) {
    keepAliveWhileOpen(context, session, written);
  }
  await written;
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

/**
 * An open stream keeps its session alive: a client that only listens is not idle. Every ttl/3
 * while the response is open, the session is touched; once it is gone, its streams here close.
 */
function keepAliveWhileOpen(context: Context, session: SessionRecord, written: Promise<void>) {
  const { sessions, logger } = context.options;
  const owner = session.owner === undefined ? {} : { owner: session.owner };
  const interval = Math.max(1_000, Math.floor(sessions.ttl / 3));
  let open = true;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    timer = unrefTimeout(() => {
      sessions
        .touch(session.id, owner)
        .then((live) => (live ? undefined : releaseSession(context, session.id)))
        .catch((error: unknown) =>
          log(logger, {
            level: "warning",
            logger: LOGGER,
            data: { message: "Keep-alive touch failed", error: describeError(error) },
          }),
        )
        .finally(() => {
          if (open) arm();
        });
    }, interval);
  };
  arm();
  void written.finally(() => {
    open = false;
    clearTimeout(timer);
  });
}

/** What `route` made of a request. */
type Outcome =
  | {
      readonly response: Response;
      readonly session?: SessionRecord;
      /** This request made `session`: if the response never reaches the client, nobody can use it. */
      readonly created?: true;
    }
  /** The connection failed before the body was in, with this error: there is nobody to answer. */
  | { readonly aborted: unknown };

async function route(
  context: Context,
  req: IncomingMessage,
  parsedBody: unknown,
  signal: AbortSignal,
): Promise<Outcome> {
  const { options, local, fleet } = context;
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
  if (body.kind === "aborted") return { aborted: body.error };
  if (body.kind === "too-large") return refuse("body-too-large");
  if (body.kind === "invalid") return refuse("parse-error");
  // Before anything recursive reads the body (a copy, a serialisation) and before the store.
  const refusal = body.kind === "json" ? bodyRefusal(body.value) : undefined;
  if (refusal !== undefined) return refuse(refusal);
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
      if (!response.ok) await discardSession(context, session);
      return { response, session, created: true };
    } catch (error) {
      await discardSession(context, session);
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
    await endSession(context, sessionId);
    return { response };
  }
  const lastEventId = request.headers.get("last-event-id");
  if (req.method === "GET" && lastEventId && options.resumable) {
    // Replayed from the shared log, wherever the stream was: no transport is needed here.
    return { response: await fleet.resume(sessionId, request, lastEventId), session };
  }
  let parsed: { parsedBody?: unknown } = {};
  if (body.kind === "json") {
    const messages = Array.isArray(body.value) ? body.value : [body.value];
    const routed = await fleet.routeFromClient(sessionId, messages);
    if (routed.kind === "invalid") return refuse("invalid-message");
    if (routed.local.length === 0) {
      if (routed.undeliverable) return refuse("reply-undeliverable");
      return { response: new Response(null, { status: 202 }) };
    }
    const kept = routed.local.length === messages.length ? body.value : routed.local;
    parsed = { parsedBody: kept };
  }
  const live = await local.obtain(session, request);
  const response = await live.transport.handleRequest(request, parsed);
  if (req.method === "GET" && response.status === 200 && response.body) {
    return { response: await fleet.openStandalone(sessionId, response), session };
  }
  return { response, session };
}

/** Releases what this instance holds for a session that ended: its transport and streams. */
async function releaseSession(context: Context, id: string): Promise<void> {
  context.inProcessRelay?.forget(id);
  context.fleet.closeSession(id);
  await context.local.close(id);
}

/**
 * Ends a session whose client never got its id. The store may be down right now (that may be why
 * the initialize failed), so removal is the manager's to retry; this request does not wait.
 */
async function discardSession(context: Context, session: SessionRecord): Promise<void> {
  await releaseSession(context, session.id);
  void context.options.sessions.discard(session);
}

async function endSession(context: Context, id: string): Promise<void> {
  await releaseSession(context, id);
  await context.options.sessions.cleanup(id);
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
