import type { ProxiedRequest, RoundRobinProxy } from "@mcp-sessions/session-testing/http";
import { deferred } from "@mcp-sessions/session-testing/wait";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import {
  StreamableHTTPClientTransport,
  type StreamableHTTPReconnectionOptions,
} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  type ClientCapabilities,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  type LoggingMessageNotification,
  LoggingMessageNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { expect } from "vitest";
import { EVENT_BOUND_MS } from "./event-bound.js";

/** The query parameter that carries a request's label. */
const LABEL = "rpc";

export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** One request the client sent. */
export interface SentRequest {
  /** See {@link labelOf}. */
  readonly label: string;
  /** The `Last-Event-ID` header, on a resumption. */
  readonly lastEventId: string | undefined;
  /** The response's status, once its headers arrived. */
  status: number | undefined;
  /** The response body as far as it arrived, decoded: every SSE event the client got on it. */
  body: string;
}

export interface LabellingFetch extends FetchLike {
  /** Every request the client sent, oldest first. */
  readonly sent: readonly SentRequest[];
}

export interface LabellingFetchOptions {
  /**
   * Cuts the response to the first request with this label right after its `afterMessages`-th
   * SSE message, as a dropped connection would: the SDK client then resumes with
   * `Last-Event-ID`. The client gets exactly that many, however many arrived at once.
   */
  readonly cut?: { readonly label: string; readonly afterMessages: number };
}

/**
 * A client `fetch` that writes what each request is into its URL's query (`/mcp?rpc=tools%2Fcall`),
 * so the proxy's log, which has each request's path but not its body, says which request went
 * where. The server ignores the query. The label is the JSON-RPC method of a POST, `response`
 * for a reply to a server request, `stream` for the GET stream, `resume` for a GET with
 * `Last-Event-ID`, `delete` for a DELETE.
 */
export function labellingFetch(options: LabellingFetchOptions = {}): LabellingFetch {
  const sent: SentRequest[] = [];
  let cutDone = false;
  const labelling = async (url: string | URL, init?: RequestInit): Promise<Response> => {
    const lastEventId = new Headers(init?.headers).get("last-event-id") ?? undefined;
    const label = labelFor(init?.method ?? "GET", init?.body, lastEventId);
    const target = new URL(url);
    target.searchParams.set(LABEL, label);
    const record: SentRequest = { label, lastEventId, status: undefined, body: "" };
    sent.push(record);
    const response = await fetch(target, init);
    record.status = response.status;
    if (response.body === null) return response;
    let cutAfter: number | undefined;
    if (!cutDone && options.cut?.label === label) {
      cutDone = true;
      cutAfter = options.cut.afterMessages;
    }
    return new Response(recorded(response.body, record, cutAfter), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  return Object.assign(labelling, { sent });
}

/** The label {@link labellingFetch} gave a request the proxy forwarded. */
export function labelOf(request: ProxiedRequest): string | undefined {
  return new URL(request.path, "http://proxy").searchParams.get(LABEL) ?? undefined;
}

export interface ConnectOptions {
  readonly capabilities?: ClientCapabilities;
  readonly fetch?: LabellingFetch;
  readonly reconnection?: StreamableHTTPReconnectionOptions;
  /** Runs after the client exists and before it connects: register request handlers here. */
  readonly prepare?: (client: Client) => void;
}

export interface ConnectedClient {
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
  readonly fetch: LabellingFetch;
  /** The session id the server gave. */
  readonly sessionId: string;
}

/** The SDK's own `Client` over `StreamableHTTPClientTransport`, through a labelling fetch. */
export async function connectClient(
  url: string,
  options: ConnectOptions = {},
): Promise<ConnectedClient> {
  const client = new Client(
    { name: "fleet-test", version: "1.0.0" },
    { capabilities: options.capabilities ?? {} },
  );
  const fetch = options.fetch ?? labellingFetch();
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch,
    ...(options.reconnection === undefined ? {} : { reconnectionOptions: options.reconnection }),
  });
  options.prepare?.(client);
  await client.connect(transport);
  const { sessionId } = transport;
  if (sessionId === undefined) throw new Error(`initialize through ${url} gave no session id`);
  return { client, transport, fetch, sessionId };
}

/** How long the GET stream may take to open after `initialize`. */
const STREAM_BOUND_MS = EVENT_BOUND_MS;

/**
 * The SDK client through `lb`, once its GET stream is open there. From then on the client sends
 * nothing of its own accord, so two requests in a row go to two instances in turn: a tool call
 * and the reply to its elicitation, or a tool call and its cancellation.
 */
export async function connectWithStream(
  lb: RoundRobinProxy,
  options: ConnectOptions = {},
): Promise<ConnectedClient> {
  const connected = await connectClient(lb.url, options);
  await expect
    .poll(() => labelled(lb.requests, connected.sessionId, "stream")[0]?.status, {
      timeout: STREAM_BOUND_MS,
    })
    .toBe(200);
  return connected;
}

export interface NotifiedClient extends ConnectedClient {
  /** The first log notification (`notifications/message`) the client gets: its params. */
  readonly notified: Promise<LoggingMessageNotification["params"]>;
}

/**
 * The SDK client on `url`, once its GET stream is open there: before, nothing the server sends
 * outside a request, such as `notify_later`'s notification, could reach it.
 */
export async function connectForNotifications(url: string): Promise<NotifiedClient> {
  const notified = deferred<LoggingMessageNotification["params"]>();
  const connected = await connectClient(url, {
    prepare: (client) =>
      client.setNotificationHandler(LoggingMessageNotificationSchema, async (notification) => {
        notified.resolve(notification.params);
      }),
  });
  await expect
    .poll(() => streamsOf(connected.fetch)[0]?.status, { timeout: STREAM_BOUND_MS })
    .toBe(200);
  return { ...connected, notified: notified.promise };
}

/** The client's GET streams (not resumptions), oldest first. */
export function streamsOf(fetch: LabellingFetch): SentRequest[] {
  return fetch.sent.filter((sent) => sent.label === "stream");
}

function labelFor(method: string, body: unknown, lastEventId: string | undefined): string {
  if (method === "GET") return lastEventId === undefined ? "stream" : "resume";
  if (method !== "POST") return method.toLowerCase();
  if (typeof body !== "string") return "post";
  const message = JSON.parse(body) as { method?: string } | unknown[];
  if (Array.isArray(message)) return "batch";
  return message.method ?? "response";
}

/**
 * Passes `body` through, keeping its text in `record`, and errors it right after the
 * `cutAfter`-th message: a chunk holding that message's end is passed on only up to there.
 */
function recorded(
  body: ReadableStream<Uint8Array>,
  record: SentRequest,
  cutAfter: number | undefined,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let cut = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      // Erroring the stream drops what is queued, so the cut waits until the client has read
      // the last chunk before it: this pull.
      if (cut) {
        await reader.cancel();
        controller.error(new Error("connection cut by the test"));
        return;
      }
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      const text = decoder.decode(value, { stream: true });
      const cutAt = cutAfter === undefined ? undefined : endOfMessage(record.body + text, cutAfter);
      if (cutAt === undefined) {
        record.body += text;
        controller.enqueue(value);
        return;
      }
      const kept = text.slice(0, cutAt - record.body.length);
      record.body += kept;
      controller.enqueue(new TextEncoder().encode(kept));
      cut = true;
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

/**
 * Where the `count`-th SSE message of `text` ends, after the blank line that closes it;
 * `undefined` while `text` holds fewer. The SDK's priming event has an empty `data:` and is no
 * message.
 */
function endOfMessage(text: string, count: number): number | undefined {
  let end = 0;
  for (let seen = 0; seen < count; seen++) {
    const start = text.indexOf("data: {", end);
    const blank = start === -1 ? -1 : text.indexOf("\n\n", start);
    if (blank === -1) return undefined;
    end = blank + 2;
  }
  return end;
}

/** What {@link answerServerRequests} answers to an elicitation: confirmed. */
export const CONFIRMED = Object.freeze({ action: "accept", content: { confirmed: true } } as const);

/**
 * Answers the server's requests as a user and a model would: every elicitation with
 * {@link CONFIRMED}, every sampling request with `echo: <prompt>` from model `echo-1`. The client
 * must declare both capabilities, as {@link ANSWERING} does.
 */
export function answerServerRequests(client: Client): void {
  client.setRequestHandler(ElicitRequestSchema, async () => CONFIRMED);
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    const content = request.params.messages[0]?.content;
    const prompt = content !== undefined && "text" in content ? content.text : "";
    return {
      model: "echo-1",
      role: "assistant",
      content: { type: "text", text: `echo: ${prompt}` },
    };
  });
}

/** The requests of one session in the proxy's log with `label`, oldest first. */
export function labelled(
  requests: readonly ProxiedRequest[],
  sessionId: string,
  label: string,
): ProxiedRequest[] {
  return requests.filter(
    (request) => request.sessionId === sessionId && labelOf(request) === label,
  );
}

/** Options of a client that declares elicitation and sampling and answers both. */
export const ANSWERING: ConnectOptions = Object.freeze({
  capabilities: { elicitation: {}, sampling: {} },
  prepare: answerServerRequests,
});
