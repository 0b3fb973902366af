import { createServer, type RequestListener, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";

export interface Listening {
  readonly server: Server;
  readonly port: number;
  /** `http://127.0.0.1:<port>/mcp` */
  readonly url: URL;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

/** A real `node:http` server on 127.0.0.1 and a free port. */
export async function listen(listener: RequestListener): Promise<Listening> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The headers every Streamable HTTP POST carries. */
export const POST_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
});

export const INITIALIZE = Object.freeze({
  jsonrpc: "2.0",
  id: 0,
  method: "initialize",
  params: {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: "raw-client", version: "0.0.1" },
  },
});

export interface RawSession {
  readonly id: string;
  /** Headers for a POST in this session. */
  readonly headers: Record<string, string>;
}

/** Initializes a session with plain `fetch` (initialize, then `notifications/initialized`). */
export async function initializeRaw(
  url: URL,
  extraHeaders: Record<string, string> = {},
): Promise<RawSession> {
  const response = await fetch(url, {
    method: "POST",
    headers: { ...POST_HEADERS, ...extraHeaders },
    body: JSON.stringify(INITIALIZE),
  });
  const messages = await jsonRpcMessages(response);
  if (response.status !== 200 || !("result" in (messages[0] ?? {}))) {
    throw new Error(`initialize failed: ${response.status} ${JSON.stringify(messages)}`);
  }
  const id = response.headers.get("mcp-session-id");
  if (id === null) throw new Error("initialize returned no mcp-session-id");
  const headers = {
    ...POST_HEADERS,
    ...extraHeaders,
    "mcp-session-id": id,
    "mcp-protocol-version": LATEST_PROTOCOL_VERSION,
  };
  const initialized = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
  });
  await initialized.arrayBuffer();
  if (initialized.status !== 202) throw new Error(`initialized got ${initialized.status}`);
  return { id, headers };
}

let nextId = 1;

/** POSTs one JSON-RPC request in `session` and returns the raw response. */
export function postRequest(
  url: URL,
  session: RawSession,
  method: string,
  params: Record<string, unknown> = {},
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: session.headers,
    body: JSON.stringify({ jsonrpc: "2.0", id: nextId++, method, params }),
  });
}

/** The JSON-RPC messages of a response body, whether JSON or an SSE stream (read to its end). */
export async function jsonRpcMessages(response: Response): Promise<Record<string, unknown>[]> {
  const text = await response.text();
  if (text === "") return [];
  if (!response.headers.get("content-type")?.startsWith("text/event-stream")) {
    const parsed: unknown = JSON.parse(text);
    return (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[];
  }
  return text
    .split("\n")
    .filter((line) => line.startsWith("data: ") && line.length > "data: ".length)
    .map((line) => JSON.parse(line.slice("data: ".length)) as Record<string, unknown>);
}

/** The status and JSON-RPC error code of an error response. */
export async function errorOf(
  response: Response,
): Promise<{ status: number; code: unknown; id: unknown }> {
  const body = (await response.json()) as { error?: { code?: unknown }; id?: unknown };
  return { status: response.status, code: body.error?.code, id: body.id };
}

/**
 * Sends a request with `http.request`, which writes header values as given: the way to send
 * bytes `fetch` refuses to.
 */
export function rawRequest(
  url: URL,
  options: { method: string; headers: Record<string, string>; body?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method, headers: options.headers, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

/**
 * Reads an SSE response until `text` appears, then stops reading and releases the body;
 * returns what was read.
 */
export async function readUntil(response: Response, text: string): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) throw new Error(`no body (HTTP ${response.status})`);
  const decoder = new TextDecoder();
  let seen = "";
  while (!seen.includes(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the stream ended before ${JSON.stringify(text)}: ${seen}`);
    seen += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return seen;
}

/** `{"a":{"a":…{}…}}`, objects nested `depth` levels deep, as JSON text. */
export function nestedJson(depth: number): string {
  return `${'{"a":'.repeat(depth - 1)}{}${"}".repeat(depth - 1)}`;
}
