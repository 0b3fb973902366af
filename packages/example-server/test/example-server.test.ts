import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { type LogEntry, StoreUnavailableError } from "@mcp-sessions/session-core";
import { createMcpSessionHandler } from "@mcp-sessions/session-mcp";
import { MemorySessionStore } from "@mcp-sessions/session-memory";
import { deferred } from "@mcp-sessions/session-testing/wait";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  type ClientCapabilities,
  ElicitRequestSchema,
  type ElicitResult,
  type Progress,
} from "@modelcontextprotocol/sdk/types.js";
import { describe, expect, it } from "vitest";
import {
  buildMcpServer,
  createJsonLineLogger,
  type ExampleServer,
  loadConfig,
  startExampleServer,
} from "../src/index.js";
import { EVENT_BOUND_MS } from "./support/event-bound.js";
import {
  ANSWERING,
  connectClient,
  connectForNotifications,
  labellingFetch,
  streamsOf,
} from "./support/mcp-client.js";
import { initializeRequest } from "./support/mcp-http.js";
import { type HttpReply, httpPost } from "./support/raw-http.js";
import { useExampleServer } from "./support/use-example-server.js";

/** Every tool the example serves, sorted. */
const TOOL_NAMES = ["add", "ask_model", "confirm", "countdown", "notify_later", "wait_for_cancel"];

const { cleanups, start, serveRoutes } = useExampleServer();

async function connect(server: ExampleServer, capabilities: ClientCapabilities = {}) {
  const client = new Client({ name: "example-server-test", version: "1.0.0" }, { capabilities });
  const transport = new StreamableHTTPClientTransport(new URL(server.url));
  await client.connect(transport);
  cleanups.push(() => client.close());
  return { client, transport };
}

async function health(server: ExampleServer): Promise<{ status: number; body: unknown }> {
  const response = await fetch(new URL("/healthz", server.url));
  return { status: response.status, body: await response.json() };
}

/** POSTs an `initialize` with exactly these Host and Origin headers. */
function postInitialize(
  server: ExampleServer,
  headers: { readonly host: string; readonly origin?: string },
): Promise<HttpReply> {
  return httpPost(server.url, initializeRequest(), { headers });
}

describe("startExampleServer", () => {
  it("serves tools, progress, elicitation, resources and prompts to the SDK client", async () => {
    const server = await start();
    expect(server.store).toBe("memory");
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/mcp`);
    const { client, transport } = await connect(server, { elicitation: {} });
    expect(client.getServerVersion()).toEqual({ name: "example-server", version: "0.0.0" });
    expect(transport.sessionId).toEqual(expect.any(String));

    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(TOOL_NAMES);

    const sum = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
    expect(sum.content).toEqual([{ type: "text", text: "5" }]);
    expect(sum.structuredContent).toEqual({ sum: 5 });

    const progress: Progress[] = [];
    const countdown = await client.callTool(
      { name: "countdown", arguments: { from: 3 } },
      undefined,
      { onprogress: (update) => progress.push(update) },
    );
    expect(countdown.content).toEqual([{ type: "text", text: "Counted down from 3: liftoff!" }]);
    expect(progress).toEqual([
      { progress: 1, total: 3, message: "2" },
      { progress: 2, total: 3, message: "1" },
      { progress: 3, total: 3, message: "0" },
    ]);

    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, async (elicit) => {
      asked.push(elicit.params.message);
      return { action: "accept", content: { confirmed: true } };
    });
    const confirmed = await client.callTool({
      name: "confirm",
      arguments: { question: "Deploy to production?" },
    });
    expect(asked).toEqual(["Deploy to production?"]);
    expect(confirmed.isError).toBeFalsy();
    expect(confirmed.structuredContent).toEqual({ action: "accept", confirmed: true });

    const { resources } = await client.listResources();
    expect(resources.map((resource) => resource.uri)).toEqual(["info://server"]);
    const info = await client.readResource({ uri: "info://server" });
    expect(info.contents).toEqual([
      {
        uri: "info://server",
        mimeType: "application/json",
        text: JSON.stringify({ name: "example-server", version: "0.0.0" }),
      },
    ]);
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((template) => template.uriTemplate)).toEqual([
      "greeting://{name}",
    ]);
    const greeting = await client.readResource({ uri: "greeting://Ada%20Lovelace" });
    expect(greeting.contents).toEqual([
      { uri: "greeting://Ada%20Lovelace", mimeType: "text/plain", text: "Hello, Ada Lovelace!" },
    ]);

    const { prompts } = await client.listPrompts();
    expect(prompts.map((prompt) => prompt.name)).toEqual(["summarize"]);
    const prompt = await client.getPrompt({
      name: "summarize",
      arguments: { text: "Sessions expire on time." },
    });
    expect(prompt.messages).toEqual([
      {
        role: "user",
        content: {
          type: "text",
          text: "Summarize the following text in one short paragraph:\n\nSessions expire on time.",
        },
      },
    ]);

    expect(await health(server)).toEqual({
      status: 200,
      body: { status: "ok", store: "memory", activeSessions: 1 },
    });
    await transport.terminateSession();
    expect(await health(server)).toEqual({
      status: 200,
      body: { status: "ok", store: "memory", activeSessions: 0 },
    });
  });

  it.each([
    ["decline", { action: "decline" }, "The user declined."],
    ["cancel", { action: "cancel" }, "The user cancelled."],
    [
      "accept without confirming",
      { action: "accept", content: { confirmed: false } },
      "Not confirmed.",
    ],
  ] as const)("confirm reports %s", async (_, answer: ElicitResult, text) => {
    const server = await start();
    const { client } = await connect(server, { elicitation: {} });
    client.setRequestHandler(ElicitRequestSchema, async () => answer);
    const result = await client.callTool({ name: "confirm", arguments: { question: "Sure?" } });
    expect(result.isError).toBeFalsy();
    expect(result.content).toEqual([{ type: "text", text }]);
  });

  it("confirm is a tool error for a client without elicitation", async () => {
    const server = await start();
    const { client } = await connect(server);
    const result = await client.callTool({ name: "confirm", arguments: { question: "Sure?" } });
    expect(result.isError).toBe(true);
    expect(result.content).toEqual([
      {
        type: "text",
        text: "This client does not support elicitation; declare the `elicitation` capability to use `confirm`.",
      },
    ]);
  });

  it("ask_model returns the client model's answer, and is a tool error without sampling", async () => {
    const server = await start();
    const { client } = await connectClient(server.url, ANSWERING);
    cleanups.push(() => client.close());
    const answered = await client.callTool({
      name: "ask_model",
      arguments: { prompt: "Which store?" },
    });
    expect(answered.isError).toBeFalsy();
    expect(answered.content).toEqual([{ type: "text", text: "echo: Which store?" }]);
    expect(answered.structuredContent).toEqual({ model: "echo-1" });

    const { client: plain } = await connect(server);
    const refused = await plain.callTool({ name: "ask_model", arguments: { prompt: "?" } });
    expect(refused.isError).toBe(true);
    expect(refused.content).toEqual([
      {
        type: "text",
        text: "This client does not support sampling; declare the `sampling` capability to use `ask_model`.",
      },
    ]);
  });

  it("notify_later returns at once and then sends a log notification on the GET stream", async () => {
    const server = await start();
    const { client, fetch, notified } = await connectForNotifications(server.url);
    cleanups.push(() => client.close());
    const result = await client.callTool({
      name: "notify_later",
      arguments: { message: "Later", delayMs: 0 },
    });
    expect(result.content).toEqual([{ type: "text", text: "Will notify in 0 ms." }]);
    expect(await notified).toEqual({ level: "info", logger: "notify_later", data: "Later" });
    expect(streamsOf(fetch)[0]?.body).toContain('"data":"Later"');
  });

  it("resumes a cut stream with Last-Event-ID when RESUMABLE=1", async () => {
    const server = await start({ RESUMABLE: "1" });
    const fetch = labellingFetch({ cut: { label: "tools/call", afterMessages: 2 } });
    const { client } = await connectClient(server.url, {
      fetch,
      reconnection: {
        initialReconnectionDelay: 10,
        maxReconnectionDelay: 50,
        reconnectionDelayGrowFactor: 1,
        maxRetries: 3,
      },
    });
    cleanups.push(() => client.close());
    const progress: number[] = [];
    const result = await client.callTool({ name: "countdown", arguments: { from: 5 } }, undefined, {
      onprogress: (update) => progress.push(update.progress),
    });
    expect(result.content).toEqual([{ type: "text", text: "Counted down from 5: liftoff!" }]);
    expect(progress).toEqual([1, 2, 3, 4, 5]);
    expect(fetch.sent.filter((sent) => sent.label === "resume")).toHaveLength(1);
  });

  it("refuses an initialize beyond MAX_SESSIONS with 503", async () => {
    const server = await start({ MAX_SESSIONS: "1" });
    await connect(server);
    const second = new Client({ name: "example-server-test", version: "1.0.0" });
    await expect(
      second.connect(new StreamableHTTPClientTransport(new URL(server.url))),
    ).rejects.toThrow(/Service Unavailable: session limit reached/);
    expect(await health(server)).toEqual({
      status: 200,
      body: { status: "ok", store: "memory", activeSessions: 1 },
    });
  });

  it("answers 404 beside /mcp and /healthz, and 405 to a POST on /healthz", async () => {
    const server = await start();
    const missing = await fetch(new URL("/nope", server.url));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({
      error: "Not found; MCP is served at /mcp and health at /healthz",
    });
    const post = await fetch(new URL("/healthz", server.url), { method: "POST" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
  });

  it("refuses /mcp under a Host name other than loopback (DNS rebinding)", async () => {
    const server = await start();
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const req = request(server.url, { method: "POST", headers: { host: "evil.example" } });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on("error", reject);
      req.end("{}");
    });
    expect(status).toBe(403);
  });

  it("refuses /mcp when Origin names another host, whatever the Host (DNS rebinding behind a proxy)", async () => {
    const server = await start();
    const host = `127.0.0.1:${server.port}`;
    // A proxy that rewrites Host (nginx's default) passes the page's Origin on unchanged.
    const rebound = await postInitialize(server, { host, origin: "http://evil.example:8080" });
    expect(rebound).toMatchObject({
      status: 403,
      body: { jsonrpc: "2.0", error: { code: -32000, message: "Invalid Origin header" }, id: null },
    });
    expect((await postInitialize(server, { host, origin: "null" })).status).toBe(403);
    expect((await postInitialize(server, { host: "evil.example" })).status).toBe(403);
    // Pages on loopback (the MCP Inspector's, on its own port) and clients that send no Origin.
    expect((await postInitialize(server, { host, origin: "http://localhost:6274" })).status).toBe(
      200,
    );
    expect((await postInitialize(server, { host, origin: "http://[::1]:6274" })).status).toBe(200);
    expect((await postInitialize(server, { host })).status).toBe(200);
  });

  it("closes with a client still connected, and close() is idempotent", async () => {
    const server = await startExampleServer(loadConfig({ PORT: "0", HOST: "127.0.0.1" }));
    const client = new Client({ name: "example-server-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
    await Promise.all([server.close(), server.close()]);
    await client.close();
    await expect(fetch(new URL("/healthz", server.url))).rejects.toThrow();
  });
});

describe("/healthz", () => {
  it("is 503 degraded when the store does not answer", async () => {
    class UnreachableStore extends MemorySessionStore {
      override count(): Promise<number> {
        return Promise.reject(new StoreUnavailableError("Redis failed on count: ECONNREFUSED"));
      }
    }
    const origin = await serveRoutes(new UnreachableStore(), { kind: "redis" });
    const response = await fetch(`${origin}/healthz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      status: "degraded",
      store: "redis",
      error: "STORE_UNAVAILABLE",
    });
  });
});

describe("buildMcpServer", () => {
  it("logs a cancelled wait_for_cancel, once its AbortSignal fired", async () => {
    const lines: string[] = [];
    const logger = createJsonLineLogger("info", {
      instance: "unit",
      write: (line) => lines.push(line),
    });
    const mcp = createMcpSessionHandler({ createServer: () => buildMcpServer({ logger }), logger });
    const http = createServer((req, res) => void mcp(req, res));
    cleanups.push(async () => {
      await mcp.close();
      await new Promise((resolve) => http.close(resolve));
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const { port } = http.address() as AddressInfo;
    const { client } = await connectClient(`http://127.0.0.1:${port}/mcp`);
    cleanups.push(() => client.close());

    const cancel = new AbortController();
    const waiting = deferred<Progress>();
    const call = client.callTool({ name: "wait_for_cancel" }, undefined, {
      signal: cancel.signal,
      onprogress: (update) => waiting.resolve(update),
    });
    expect(await waiting.promise).toEqual({ progress: 0, message: "Waiting for cancellation" });
    const cancelled = () =>
      lines
        .map((line) => JSON.parse(line) as LogEntry & { instance?: string })
        .filter((entry) => entry.data.message === "Tool cancelled");
    expect(cancelled()).toEqual([]);
    cancel.abort("No longer needed");
    await expect(call).rejects.toThrow("No longer needed");
    await expect
      .poll(() => cancelled(), { timeout: EVENT_BOUND_MS })
      .toEqual([
        expect.objectContaining({
          level: "info",
          instance: "unit",
          logger: "example-server/tools",
          data: { message: "Tool cancelled", tool: "wait_for_cancel" },
        }),
      ]);
  });
});
