/**
 * The web face, called directly with web `Request`s as Hono, a Worker-style server or a
 * composition in front of another handler calls it: no HTTP server in between.
 */
import { type LogEntry, SessionManager, silentSendLog } from "@mcp-sessions/session-core";
import { MemorySessionStore } from "@mcp-sessions/session-memory";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createMcpSessionHandler, type McpSessionHandler } from "../src/index.js";
import { INITIALIZE, jsonRpcMessages, POST_HEADERS, readUntil } from "./support/http.js";
import { buildTestServer } from "./support/test-server.js";

const URL_ = "http://127.0.0.1/mcp";
const MAX_BODY_BYTES = 4 * 1024 * 1024;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function open(options: Partial<Parameters<typeof createMcpSessionHandler>[0]> = {}) {
  const store = new MemorySessionStore();
  const sessions = new SessionManager({ store, logger: silentSendLog });
  const logs: LogEntry[] = [];
  const mcp = createMcpSessionHandler({
    sessions,
    createServer: () => buildTestServer(),
    logger: (entry) => void logs.push(entry),
    ...options,
  });
  cleanups.push(async () => {
    await mcp.close();
    await sessions.close();
    await store.close();
  });
  return { mcp, sessions, logs };
}

function post(body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(URL_, {
    method: "POST",
    headers: { ...POST_HEADERS, ...headers },
    body: JSON.stringify(body),
  });
}

/** Initializes through `fetch` and sends `notifications/initialized`; the session's headers. */
async function initialize(
  mcp: McpSessionHandler,
  options: Parameters<McpSessionHandler["fetch"]>[1] = {},
): Promise<Record<string, string>> {
  const response = await mcp.fetch(post(INITIALIZE), options);
  expect(response.status).toBe(200);
  const sessionId = response.headers.get("mcp-session-id") as string;
  await response.text();
  const headers = { "mcp-session-id": sessionId };
  const initialized = await mcp.fetch(
    post({ jsonrpc: "2.0", method: "notifications/initialized" }, headers),
    options,
  );
  expect(initialized.status).toBe(202);
  return headers;
}

async function errorOf(response: Response): Promise<{ status: number; code: unknown }> {
  const body = (await response.json()) as { error: { code: unknown } };
  return { status: response.status, code: body.error.code };
}

describe("fetch", () => {
  it("reads the body from the request, and serves a session across calls", async () => {
    const { mcp, sessions } = open();
    const headers = await initialize(mcp);
    const listed = await mcp.fetch(post({ jsonrpc: "2.0", id: 1, method: "tools/list" }, headers));
    expect(listed.status).toBe(200);
    const [message] = await jsonRpcMessages(listed);
    expect(message).toMatchObject({ id: 1, result: { tools: expect.any(Array) } });
    expect(await sessions.getActiveSessionCount()).toBe(1);
  });

  it("takes a body a framework already parsed, and never reads the request's", async () => {
    const { mcp } = open();
    const headers = await initialize(mcp);
    const unread = new Request(URL_, {
      method: "POST",
      headers: { ...POST_HEADERS, ...headers },
      body: "not json: the parsed body is the one that counts",
    });
    const response = await mcp.fetch(unread, {
      parsedBody: { jsonrpc: "2.0", id: 2, method: "tools/list" },
    });
    expect(response.status).toBe(200);
    expect((await jsonRpcMessages(response))[0]).toMatchObject({ id: 2 });
    expect(unread.bodyUsed).toBe(false);
  });

  it("binds the session to a given owner without calling authenticate, and refuses an undefined one", async () => {
    const authenticate = vi.fn(() => "from-authenticate");
    const { mcp } = open({ authenticate });
    const headers = await initialize(mcp, { owner: "user-42" });
    const list = () => post({ jsonrpc: "2.0", id: 3, method: "tools/list" }, headers);

    expect((await mcp.fetch(list(), { owner: "user-42" })).status).toBe(200);
    expect(await errorOf(await mcp.fetch(list(), { owner: "user-7" }))).toEqual({
      status: 404,
      code: -32001,
    });
    expect(authenticate).not.toHaveBeenCalled();
    // The middleware found nobody: refused, not served unbound.
    expect(await errorOf(await mcp.fetch(list(), { owner: undefined }))).toEqual({
      status: 401,
      code: -32000,
    });
    expect(authenticate).not.toHaveBeenCalled();
    // No owner given: `authenticate` decides, with the web request and no Node request.
    expect(await errorOf(await mcp.fetch(list()))).toEqual({ status: 404, code: -32001 });
    expect(authenticate).toHaveBeenCalledTimes(1);
    expect(authenticate).toHaveBeenCalledWith(expect.any(Request), undefined);
  });

  it("refuses a body past 4 MB without reading the rest of it", async () => {
    const { mcp } = open();
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    let pulled = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
      cancel() {
        cancelled = true;
      },
    });
    const request = new Request(URL_, {
      method: "POST",
      headers: POST_HEADERS,
      body: endless,
      duplex: "half",
    } as RequestInit);
    expect((await mcp.fetch(request)).status).toBe(413);
    expect(cancelled).toBe(true);
    // The source is endless: it stopped at the limit, give or take the chunks the streams in
    // between read ahead.
    expect(pulled).toBeLessThan(MAX_BODY_BYTES + 4 * chunk.byteLength);
  });

  it("answers a body that fails mid-way as a parse error, and logs it only at debug", async () => {
    const { mcp, logs } = open();
    const failing = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"jsonrpc":"2.0",'));
        controller.error(new Error("ECONNRESET"));
      },
    });
    const request = new Request(URL_, {
      method: "POST",
      headers: POST_HEADERS,
      body: failing,
      duplex: "half",
    } as RequestInit);
    expect(await errorOf(await mcp.fetch(request))).toEqual({ status: 400, code: -32700 });
    expect(logs.map(({ level }) => level)).toEqual(["debug"]);
  });

  it("releases the GET stream when the caller cancels its body, so the client can open it again", async () => {
    const { mcp } = open();
    const headers = await initialize(mcp);
    const get = () => new Request(URL_, { headers: { ...headers, accept: "text/event-stream" } });
    const first = await mcp.fetch(get());
    expect(first.status).toBe(200);
    expect(first.headers.get("content-type")).toBe("text/event-stream");
    // A second one while the first is open is the SDK's 409: one standalone stream per session.
    expect((await mcp.fetch(get())).status).toBe(409);
    await first.body?.cancel();
    const again = await mcp.fetch(get());
    expect(again.status).toBe(200);
    // And it carries what the session's server sends outside any request.
    const announce = await mcp.fetch(
      post(
        {
          jsonrpc: "2.0",
          id: 4,
          method: "tools/call",
          params: { name: "announce", arguments: {} },
        },
        headers,
      ),
    );
    await announce.text();
    expect(await readUntil(again, "notifications/tools/list_changed")).toContain(
      "notifications/tools/list_changed",
    );
  });

  it("answers 503 once closed, and refuses methods Streamable HTTP has not", async () => {
    const { mcp } = open();
    expect((await mcp.fetch(new Request(URL_, { method: "PUT" }))).status).toBe(405);
    await mcp.close();
    expect(await errorOf(await mcp.fetch(post(INITIALIZE)))).toEqual({
      status: 503,
      code: -32000,
    });
  });
});
