import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";

/** The headers a Streamable HTTP client sends with every POST. */
const POST_HEADERS = Object.freeze({
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
});

/** A JSON-RPC message as it came off the wire. */
export interface WireMessage {
  readonly jsonrpc: "2.0";
  readonly id?: string | number | null;
  readonly method?: string;
  readonly params?: Record<string, unknown>;
  readonly result?: Record<string, unknown>;
  readonly error?: { readonly code: number; readonly message: string };
}

/** An HTTP answer to an MCP request, with the JSON-RPC messages of its body. */
export interface McpReply {
  readonly status: number;
  readonly headers: Headers;
  /** Every message in the body: one JSON document, or the `data:` of each SSE event. */
  readonly messages: readonly WireMessage[];
}

export interface RequestOptions {
  readonly sessionId?: string;
  /** Replaces or adds headers. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** POSTs `body` (a message, or raw text sent as it is) and reads the whole answer. */
export async function post(
  url: string,
  body: object | string,
  options: RequestOptions = {},
): Promise<McpReply> {
  const response = await fetch(url, {
    method: "POST",
    headers: headersFor(options),
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return readReply(response);
}

/** DELETEs the session, as a client ending it does, and reads the answer. */
export async function deleteSession(url: string, sessionId: string): Promise<McpReply> {
  const response = await fetch(url, { method: "DELETE", headers: headersFor({ sessionId }) });
  return readReply(response);
}

/**
 * Makes a session with `initialize` then `notifications/initialized`, both on `url`, and returns
 * its id.
 * @throws Error when either is not accepted
 */
export async function initializeSession(url: string, clientName = "fleet-test"): Promise<string> {
  const initialize = await post(url, initializeRequest(clientName));
  const sessionId = initialize.headers.get("mcp-session-id");
  if (initialize.status !== 200 || sessionId === null) {
    throw new Error(`initialize on ${url} answered ${initialize.status} without a session id`);
  }
  const initialized = await post(
    url,
    { jsonrpc: "2.0", method: "notifications/initialized" },
    { sessionId },
  );
  if (initialized.status !== 202) {
    throw new Error(`notifications/initialized on ${url} answered ${initialized.status}`);
  }
  return sessionId;
}

export function initializeRequest(clientName = "fleet-test"): WireMessage {
  return {
    jsonrpc: "2.0",
    id: "init",
    method: "initialize",
    params: {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: clientName, version: "1.0.0" },
    },
  };
}

/** `tools/call` for `add`, which answers `{ sum }`. */
export function addRequest(id: number, a: number, b: number): WireMessage {
  return { jsonrpc: "2.0", id, method: "tools/call", params: { name: "add", arguments: { a, b } } };
}

/** The one response in a reply, by id. */
export function responseTo(reply: McpReply, id: string | number): WireMessage | undefined {
  return reply.messages.find((message) => message.id === id && message.method === undefined);
}

/** The JSON-RPC error code of an error reply (`{ error, id: null }`). */
export function errorCodeOf(reply: McpReply): number | undefined {
  return reply.messages[0]?.error?.code;
}

/** GET `/healthz` beside `mcpUrl`. */
export async function health(mcpUrl: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(new URL("/healthz", mcpUrl));
  return { status: response.status, body: await response.json() };
}

/** A session's GET SSE stream: its headers arrived, its body runs until the server ends it. */
export interface OpenStream {
  readonly response: Response;
  /** Resolves once the server ended the body; rejects if the stream was aborted or cut. */
  readonly ended: Promise<void>;
  /** Whether `ended` has settled. */
  hasEnded(): boolean;
  /** Aborts the stream from the client's side. */
  abort(): void;
}

/**
 * Opens the session's GET SSE stream on `url`, as the SDK client does after initializing, and
 * resolves once its headers arrived.
 * @throws Error when the answer is not 200 `text/event-stream`
 */
export async function openStream(url: string, sessionId: string): Promise<OpenStream> {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { accept: "text/event-stream", "mcp-session-id": sessionId },
    signal: controller.signal,
  });
  const type = response.headers.get("content-type");
  if (response.status !== 200 || type !== "text/event-stream") {
    controller.abort();
    throw new Error(`GET on ${url} answered ${response.status} (${type}), not an SSE stream`);
  }
  let settled = false;
  const ended = response.text().then(
    () => {
      settled = true;
    },
    (error: unknown) => {
      settled = true;
      throw error;
    },
  );
  // An abort at clean-up rejects `ended` when nobody awaits it: that is no unhandled rejection.
  ended.catch(() => undefined);
  return { response, ended, hasEnded: () => settled, abort: () => controller.abort() };
}

function headersFor(options: RequestOptions): Record<string, string> {
  return {
    ...POST_HEADERS,
    "mcp-protocol-version": LATEST_PROTOCOL_VERSION,
    ...(options.sessionId === undefined ? {} : { "mcp-session-id": options.sessionId }),
    ...options.headers,
  };
}

async function readReply(response: Response): Promise<McpReply> {
  const text = await response.text();
  const type = response.headers.get("content-type") ?? "";
  let messages: WireMessage[] = [];
  if (type.startsWith("text/event-stream")) {
    messages = sseData(text).map((data) => JSON.parse(data) as WireMessage);
  } else if (type.startsWith("application/json") && text !== "") {
    const parsed = JSON.parse(text) as WireMessage | WireMessage[];
    messages = Array.isArray(parsed) ? parsed : [parsed];
  }
  return { status: response.status, headers: response.headers, messages };
}

/** The data of each event in an SSE body (comments and empty events left out). */
function sseData(text: string): string[] {
  const events: string[] = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block
      .split(/\r?\n/)
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5));
    // An event without data (an SSE priming event) carries no message.
    if (data.join("") !== "") events.push(data.join("\n"));
  }
  return events;
}
