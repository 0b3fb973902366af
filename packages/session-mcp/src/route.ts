import type { IncomingMessage } from "node:http";
import { isValidSessionId, type SessionRecord } from "@mcp-sessions/session-core";
import type { Fleet } from "./fleet.js";
import { discardSession, endSession, type HandlerContext } from "./handler-context.js";
import { initializeParamsOf } from "./initialize-params.js";
import { errorResponse, type Refusal } from "./json-rpc-errors.js";
import type { ResolvedMcpSessionHandlerOptions } from "./options.js";
import type { BodyReader, RequestBody } from "./request-body.js";
import { bodyRefusal } from "./request-limits.js";
import { acceptsEventStream, sseHeaders } from "./sdk-assumptions.js";

/** What `route` made of a request. */
export type Outcome =
  | {
      readonly response: Response;
      readonly session?: SessionRecord;
      /** This request made `session`: if the response never reaches the client, nobody can use it. */
      readonly created?: true;
    }
  /** The connection failed before the body was in, with this error: there is nobody to answer. */
  | { readonly aborted: unknown };

/** What the face that received a request adds to it. */
export interface RouteInput {
  /**
   * The authenticated user, when the caller authenticated the request itself (`fetch`'s
   * `owner`). Present but `undefined`: the caller found nobody, and the request is refused.
   */
  readonly owner?: { readonly value: string | undefined };
  readonly readBody: BodyReader;
  /** The Node request, when the Node face received it, for `authenticate`. */
  readonly node?: IncomingMessage;
}

/** A request that passed every check that needs no store. */
interface Admitted {
  readonly kind: "admitted";
  /** The authenticated user; `undefined` when nobody authenticates requests. */
  readonly owner: string | undefined;
  readonly body: Extract<RequestBody, { kind: "none" | "json" }>;
  readonly request: Request;
}

/** The methods Streamable HTTP has; any other is refused before anything else is read. */
export function isServedMethod(method: string | undefined): boolean {
  return method === "GET" || method === "POST" || method === "DELETE";
}

/**
 * Answers one request. The checks that need no store come first; then an `initialize` makes a
 * session, and any other request is checked and touched in the store in one round trip before
 * it goes where its method sends it.
 */
export async function route(
  context: HandlerContext,
  request: Request,
  input: RouteInput,
): Promise<Outcome> {
  const admitted = await admit(context.options, request, input);
  if (admitted.kind !== "admitted") return admitted.outcome;
  const sessionId = request.headers.get("mcp-session-id");
  if (sessionId === null) return initialize(context, admitted);
  if (!isValidSessionId(sessionId)) return refuse("invalid-session-id");
  const owner = ownerOption(admitted.owner);
  // One round trip: it checks existence, expiry and owner, and moves the deadline.
  const session = await context.options.sessions.touch(sessionId, owner);
  if (session === undefined) {
    // Expired or deleted: release the local copy now rather than when `ended` arrives.
    await context.local.closeIfOwnedBy(sessionId, admitted.owner);
    return refuse("session-not-found");
  }
  return inSession(context, session, admitted);
}

/** Method, authentication and body: refused here, nothing reaches the store or the fleet. */
async function admit(
  options: ResolvedMcpSessionHandlerOptions,
  request: Request,
  input: RouteInput,
): Promise<Admitted | { readonly kind: "done"; readonly outcome: Outcome }> {
  const done = (outcome: Outcome) => ({ kind: "done", outcome }) as const;
  if (!isServedMethod(request.method)) return done(refuse("method-not-allowed"));
  const owner = input.owner ? input.owner.value : await options.authenticate?.(request, input.node);
  if (owner === undefined && (input.owner || options.authenticate)) {
    return done(refuse("unauthenticated"));
  }
  const body = await input.readBody();
  if (body.kind === "aborted") return done({ aborted: body.error });
  if (body.kind === "too-large") return done(refuse("body-too-large"));
  if (body.kind === "invalid") return done(refuse("parse-error"));
  // Before anything recursive reads the body (a copy, a serialisation) and before the store.
  const refusal = body.kind === "json" ? bodyRefusal(body.value) : undefined;
  if (refusal !== undefined) return done(refuse(refusal));
  return { kind: "admitted", owner, body, request };
}

/** An `initialize` without a session header: a new session, and its transport here. */
async function initialize(context: HandlerContext, admitted: Admitted): Promise<Outcome> {
  const { body, request } = admitted;
  if (body.kind !== "json") return refuse("session-header-required");
  const params = initializeParamsOf(body.value);
  if (params === undefined) return refuse("session-header-required");
  const session = await context.options.sessions.create(params, ownerOption(admitted.owner));
  try {
    const started = await context.local.start(session);
    const response = await started.transport.handleRequest(request, { parsedBody: body.value });
    // The SDK refused this initialize (bad headers, version): keep no session for it.
    if (!response.ok) await discardSession(context, session);
    return { response, session, created: true };
  } catch (error) {
    await discardSession(context, session);
    throw error;
  }
}

/** A request in a live session the client may use. */
function inSession(
  context: HandlerContext,
  session: SessionRecord,
  admitted: Admitted,
): Promise<Outcome> {
  const { request } = admitted;
  if (request.method === "DELETE") return deleteSession(context, session, request);
  const lastEventId = request.headers.get("last-event-id");
  if (request.method === "GET" && lastEventId && context.options.resumable) {
    return resume(context, session, request, lastEventId);
  }
  return forward(context, session, admitted);
}

/** DELETE: the session ends everywhere. */
async function deleteSession(
  context: HandlerContext,
  session: SessionRecord,
  request: Request,
): Promise<Outcome> {
  const live = context.local.obtainIfLive(session.id);
  // The transport answers, and closes itself (sdk-assumptions: DELETE_CLOSES); a session not
  // open here has nothing to close.
  const response = live ? await live.transport.handleRequest(request) : new Response(null);
  await endSession(context, session.id);
  return { response };
}

/** A GET with `Last-Event-ID`: replayed from the shared log, wherever the stream was. */
async function resume(
  context: HandlerContext,
  session: SessionRecord,
  request: Request,
  lastEventId: string,
): Promise<Outcome> {
  // The transport's own check on a GET, made here as no transport is needed for a resume.
  if (!acceptsEventStream(request.headers)) return refuse("not-acceptable");
  const body = await context.fleet.resume(session.id, lastEventId);
  if (body === undefined) return refuse("unknown-event-id");
  return { response: new Response(body, { headers: sseHeaders(session.id) }), session };
}

/**
 * A POST or a GET for the session's transport here, adopting the session first if it is new
 * here; what the body holds for other instances goes to them instead.
 */
async function forward(
  context: HandlerContext,
  session: SessionRecord,
  { body, request }: Admitted,
): Promise<Outcome> {
  let handleOptions: { parsedBody?: unknown } = {};
  if (body.kind === "json") {
    const kept = await routeElsewhere(context.fleet, session.id, body.value);
    if ("response" in kept) return kept;
    handleOptions = kept;
  }
  const live = await context.local.obtain(session, request);
  // `request` has no body: the transport takes the one read here (sdk-assumptions: PARSED_BODY).
  const response = await live.transport.handleRequest(request, handleOptions);
  if (request.method === "GET" && response.status === 200 && response.body) {
    const stream = await context.fleet.openStandalone(session.id, response.body);
    const { status, headers } = response;
    return { response: new Response(stream, { status, headers }), session };
  }
  return { response, session };
}

/**
 * Sends the messages of a body that belong to other instances there. Returns what is left for
 * the transport here, or the answer when nothing is.
 */
async function routeElsewhere(
  fleet: Fleet,
  sessionId: string,
  value: unknown,
): Promise<{ readonly parsedBody: unknown } | { readonly response: Response }> {
  const messages = Array.isArray(value) ? value : [value];
  const routed = await fleet.routeFromClient(sessionId, messages);
  if (routed.kind === "invalid") return refuse("invalid-message");
  if (routed.local.length === 0) {
    if (routed.undeliverable) return refuse("reply-undeliverable");
    return { response: new Response(null, { status: 202 }) };
  }
  return { parsedBody: routed.local.length === messages.length ? value : routed.local };
}

function refuse(refusal: Refusal): { readonly response: Response } {
  return { response: errorResponse(refusal) };
}

function ownerOption(owner: string | undefined): { owner?: string } {
  return owner === undefined ? {} : { owner };
}
