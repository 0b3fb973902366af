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
import { writeWebResponse } from "./node-http.js";
import { type McpSessionHandlerOptions, resolveOptions } from "./options.js";
import { type Outcome, route } from "./route.js";

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
  });
  const local = new LocalSessions({ ...resolved, fleet });
  const context: HandlerContext = { options: resolved, local, fleet, inProcessRelay };
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
 * Answers one request and writes the answer. An SSE answer keeps its session alive while open.
 */
async function serve(
  context: HandlerContext,
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
    // Nothing is written then: `writeWebResponse` cancels the body, which releases an SDK stream
    // (sdk-assumptions: ONE_STANDALONE_STREAM).
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
