/**
 * Every entry of src/sdk-assumptions.ts, checked against the installed SDK: one test per entry,
 * named after it. They drive the SDK's own `WebStandardStreamableHTTPServerTransport` and
 * `McpServer` through `handleRequest` with web `Request`s, as Hono or a Worker would, with no
 * handler of ours in between: what is under test is the SDK, so that a release that changes one
 * of these fails here, by name, before it fails anywhere else.
 */

import { deferred } from "@mcp-sessions/session-testing/wait";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import {
  type EventStore,
  WebStandardStreamableHTTPServerTransport,
} from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import {
  ElicitResultSchema,
  ErrorCode,
  type JSONRPCMessage,
  type JSONRPCRequest,
  LATEST_PROTOCOL_VERSION,
  McpError,
} from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { replayRequests } from "../src/initialize-params.js";
import { isJsonRpcMessage, messageKind } from "../src/json-rpc.js";
import { errorResponse, type Refusal } from "../src/json-rpc-errors.js";
import {
  acceptsEventStream,
  DEFAULT_KEEP_ALIVE_MS,
  endsRequestStream,
  goesOnStandaloneStream,
  isPrimingEvent,
  isSdkRequestId,
  keepAliveIntervalMs,
  MAX_BATCH_SIZE,
  MAX_BODY_BYTES,
  SSE_KEEP_ALIVE,
  STANDALONE_STREAM_ID,
  sseEvent,
  sseHeaders,
  usesOwnIdAsProgressToken,
} from "../src/sdk-assumptions.js";
import { INITIALIZE, POST_HEADERS } from "./support/http.js";
import { buildTestServer } from "./support/test-server.js";

const MCP_URL = "http://127.0.0.1/mcp";
const SESSION_ID = "bare-session";
const SESSION_HEADERS = Object.freeze({
  ...POST_HEADERS,
  "mcp-session-id": SESSION_ID,
  "mcp-protocol-version": LATEST_PROTOCOL_VERSION,
});
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface StoredEvent {
  readonly streamId: string;
  readonly eventId: string;
  readonly message: JSONRPCMessage;
}

/** An `EventStore` that keeps what the transport hands it, in order. Ids contain a ".". */
class RecordingEventStore implements EventStore {
  readonly events: StoredEvent[] = [];
  /** The `Last-Event-ID` of every replay the transport asked for. */
  readonly replays: string[] = [];
  #waiting: Array<{ matches: (event: StoredEvent) => boolean; resolve: (e: StoredEvent) => void }> =
    [];

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const event = { streamId, eventId: `${streamId}.${this.events.length}`, message };
    this.events.push(event);
    for (const waiter of this.#waiting.filter(({ matches }) => matches(event))) {
      this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
      waiter.resolve(event);
    }
    return event.eventId;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    this.replays.push(lastEventId);
    const at = this.events.findIndex((event) => event.eventId === lastEventId);
    const streamId = this.events[at]?.streamId ?? STANDALONE_STREAM_ID;
    for (const event of this.events.slice(at + 1)) {
      if (event.streamId === streamId) await send(event.eventId, event.message);
    }
    return streamId;
  }

  /** The first event stored from now on that `matches`. */
  next(matches: (event: StoredEvent) => boolean): Promise<StoredEvent> {
    return new Promise((resolve) => this.#waiting.push({ matches, resolve }));
  }

  stream(streamId: string): StoredEvent[] {
    return this.events.filter((event) => event.streamId === streamId);
  }
}

/** Reads an SSE body block by block: an event, or a comment such as the keep-alive. */
class SseReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #decoder = new TextDecoder();
  #buffer = "";

  constructor(response: Response) {
    if (!response.body) throw new Error(`no body (HTTP ${response.status})`);
    this.#reader = response.body.getReader();
  }

  /** The next block, as written but for its final blank line; `undefined` once the body ends. */
  async next(): Promise<string | undefined> {
    for (;;) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        return block;
      }
      const { done, value } = await this.#reader.read();
      if (done) return undefined;
      this.#buffer += this.#decoder.decode(value, { stream: true });
    }
  }

  /** Reads on to the first message that `matches`. */
  async message(matches: (message: Record<string, unknown>) => boolean): Promise<JSONRPCMessage> {
    for (let block = await this.next(); block !== undefined; block = await this.next()) {
      const data = block
        .split("\n")
        .find((line) => line.startsWith("data: "))
        ?.slice("data: ".length);
      if (!data) continue;
      const message = JSON.parse(data) as Record<string, unknown>;
      if (matches(message)) return message as JSONRPCMessage;
    }
    throw new Error("the stream ended before the message");
  }

  cancel(): Promise<void> {
    return this.#reader.cancel();
  }
}

interface BareOptions {
  readonly eventStore?: EventStore;
  readonly keepAliveMs?: number;
  /** Runs on the server before it is connected (tools registered later announce themselves). */
  readonly setup?: (server: McpServer) => void;
}

/** One initialized session on the SDK's own transport and an `McpServer`, nothing of ours. */
interface Bare {
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly server: McpServer;
  send(method: string, headers: Record<string, string>, body?: string): Promise<Response>;
  post(message: unknown, headers?: Record<string, string>): Promise<Response>;
  get(headers?: Record<string, string>): Promise<Response>;
}

const opened: Array<() => Promise<void>> = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const close of opened.splice(0)) await close();
});

async function bare(options: BareOptions = {}): Promise<Bare> {
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: () => SESSION_ID,
    ...(options.eventStore ? { eventStore: options.eventStore } : {}),
    ...(options.keepAliveMs === undefined ? {} : { keepAliveMs: options.keepAliveMs }),
  });
  const server = buildTestServer();
  options.setup?.(server);
  await server.connect(transport);
  opened.push(() => server.close());
  const send = (method: string, headers: Record<string, string>, body?: string) =>
    transport.handleRequest(new Request(MCP_URL, { method, headers, body: body ?? null }));
  const session: Bare = {
    transport,
    server,
    send,
    post: (message, headers = SESSION_HEADERS) =>
      send("POST", headers, typeof message === "string" ? message : JSON.stringify(message)),
    get: (headers = {}) =>
      send("GET", {
        accept: "text/event-stream",
        "mcp-session-id": SESSION_ID,
        "mcp-protocol-version": LATEST_PROTOCOL_VERSION,
        ...headers,
      }),
  };
  const initialize = await session.post(INITIALIZE, { ...POST_HEADERS });
  await initialize.text();
  const initialized = await session.post({ jsonrpc: "2.0", method: "notifications/initialized" });
  if (initialize.status !== 200 || initialized.status !== 202) {
    throw new Error(`initialize: ${initialize.status}, initialized: ${initialized.status}`);
  }
  return session;
}

let nextId = 100;

function toolCall(name: string, args: Record<string, unknown> = {}, meta?: object) {
  return {
    jsonrpc: "2.0",
    id: nextId++,
    method: "tools/call",
    params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
  };
}

/** The status, headers that matter and body of two answers are the same. */
async function expectSameAnswer(sdk: Response, ours: Response): Promise<void> {
  expect({ status: sdk.status, allow: sdk.headers.get("allow"), body: await sdk.json() }).toEqual({
    status: ours.status,
    allow: ours.headers.get("allow"),
    body: await ours.json(),
  });
}

/** A tool that asks the client through `elicitation/create`, with progress, abortable. */
function askTool(signal: AbortSignal) {
  return (server: McpServer) =>
    server.registerTool("ask", { description: "Asks the client" }, async (extra) => {
      try {
        await extra.sendRequest(
          {
            method: "elicitation/create",
            params: {
              mode: "form",
              message: "Sure?",
              requestedSchema: { type: "object", properties: {} },
            },
          },
          ElicitResultSchema,
          { onprogress: () => {}, signal },
        );
        return { content: [{ type: "text", text: "answered" }] };
      } catch (error) {
        const code = error instanceof McpError ? error.code : "not an McpError";
        return { content: [{ type: "text", text: JSON.stringify({ code }) }] };
      }
    });
}

const isResult = (message: object) => "result" in message;

/** Calls the `ask` tool; returns its stream, read up to the server's request to the client. */
async function ask(session: Bare): Promise<{ stream: SseReader; request: JSONRPCRequest }> {
  const stream = new SseReader(await session.post(toolCall("ask")));
  const request = await stream.message((m) => m.method === "elicitation/create");
  return { stream, request: request as JSONRPCRequest };
}

describe("what session-mcp assumes of @modelcontextprotocol/sdk", () => {
  it("STANDALONE_STREAM_ID: the transport stores a message outside any request under that id", async () => {
    const store = new RecordingEventStore();
    const { server } = await bare({ eventStore: store });
    await server.server.sendToolListChanged();
    expect(store.events.at(-1)).toMatchObject({
      streamId: STANDALONE_STREAM_ID,
      message: { method: "notifications/tools/list_changed" },
    });
  });

  it("REQUEST_STREAM_IDS: each POST's events share one fresh UUID stream id, priming included", async () => {
    const store = new RecordingEventStore();
    const session = await bare({ eventStore: store });
    const before = store.events.length;
    for (let call = 0; call < 2; call++) {
      const response = await session.post(toolCall("countdown", { from: 2 }, { progressToken: 7 }));
      await response.text();
    }
    const streams = [...new Set(store.events.slice(before).map((event) => event.streamId))];
    expect(streams).toHaveLength(2);
    for (const streamId of streams) {
      expect(streamId).toMatch(UUID);
      expect(store.stream(streamId).map(({ message }) => messageKind(message))).toEqual([
        "other", // the priming event
        "notification",
        "notification",
        "response",
      ]);
    }
  });

  it("EVENTS_OUTLIVE_CONNECTION: the transport stores a response after its client's connection closed", async () => {
    const store = new RecordingEventStore();
    const gate = deferred();
    const failed = deferred<Error>();
    const session = await bare({
      eventStore: store,
      setup: (server) => {
        server.registerTool("gate", { description: "Returns once let through" }, async () => {
          await gate.promise;
          return { content: [{ type: "text", text: "through" }] };
        });
        server.server.onerror = failed.resolve;
      },
    });
    const stream = new SseReader(await session.post(toolCall("gate")));
    await stream.next(); // the priming event: the stream is registered, with its id
    const streamId = store.events.at(-1)?.streamId;
    await stream.cancel(); // the client's connection is gone
    const stored = store.next((event) => event.streamId === streamId && isResult(event.message));
    gate.resolve();
    const outcome = await Promise.race([stored, failed.promise]);
    expect(outcome).toMatchObject({ message: { result: { content: [{ text: "through" }] } } });
  });

  it("REPLAY_ONLY_ON_GET: the transport replays events only for a GET with Last-Event-ID", async () => {
    const store = new RecordingEventStore();
    const session = await bare({ eventStore: store });
    await (await session.post(toolCall("add", { a: 1, b: 2 }))).text();
    const lastEventId = store.events.at(-1)?.eventId as string;
    const post = await session.post(toolCall("add", { a: 1, b: 2 }), {
      ...SESSION_HEADERS,
      "last-event-id": lastEventId,
    });
    await post.text();
    expect(store.replays).toEqual([]);
    const get = await session.get({ "last-event-id": lastEventId });
    expect(get.status).toBe(200);
    await get.body?.cancel();
    expect(store.replays).toEqual([lastEventId]);
  });

  it("isPrimingEvent: a request stream opens with an empty message the transport writes itself", async () => {
    const store = new RecordingEventStore();
    const session = await bare({ eventStore: store });
    const text = await (await session.post(toolCall("add", { a: 1, b: 2 }))).text();
    const [priming, ...rest] = store.stream(store.events.at(-1)?.streamId as string);
    expect(priming && isPrimingEvent(priming.message)).toBe(true);
    expect(rest.map(({ message }) => isPrimingEvent(message))).toEqual([false]);
    expect(text.split("\n\n")[0]).toBe(`id: ${priming?.eventId}\ndata: `);
  });

  it("sseEvent: the transport frames an event, with the event store's id unchanged, as sseEvent does", async () => {
    const store = new RecordingEventStore();
    const session = await bare({ eventStore: store });
    const text = await (await session.post(toolCall("add", { a: 1, b: 2 }))).text();
    const response = store.events.at(-1) as StoredEvent;
    expect(response.message).toMatchObject({ result: { content: [{ text: "3" }] } });
    expect(text.endsWith(sseEvent(response.message, response.eventId))).toBe(true);
  });

  it("sseHeaders: the transport's SSE responses carry these headers", async () => {
    const session = await bare();
    const post = await session.post(toolCall("add", { a: 1, b: 2 }));
    const get = await session.get();
    for (const response of [post, get]) {
      for (const [name, value] of Object.entries(sseHeaders(SESSION_ID))) {
        expect([name, response.headers.get(name)]).toEqual([name, value]);
      }
      await response.body?.cancel();
    }
  });

  it.each([
    ["the default", undefined],
    ["20 ms", 20],
    ["0 (off)", 0],
  ])(
    "SSE_KEEP_ALIVE, DEFAULT_KEEP_ALIVE_MS and keepAliveIntervalMs: the transport's keep-alive with keepAliveMs %s",
    async (_, keepAliveMs) => {
      vi.useFakeTimers();
      const session = await bare(keepAliveMs === undefined ? {} : { keepAliveMs });
      const stream = new SseReader(await session.get());
      const marker = (n: number) => ({
        jsonrpc: "2.0" as const,
        method: "notifications/message",
        params: { level: "info", data: `marker ${n}` },
      });
      const interval = keepAliveIntervalMs(keepAliveMs);
      // Just short of the interval, then just past it: the comment comes between the markers.
      vi.advanceTimersByTime((interval ?? 10 * DEFAULT_KEEP_ALIVE_MS) - 1);
      await session.transport.send(marker(1));
      vi.advanceTimersByTime(1);
      await session.transport.send(marker(2));
      // Up to the second marker, which always comes: a missing comment fails, never hangs.
      const blocks: string[] = [];
      while (blocks.at(-1) !== sseEvent(marker(2))) blocks.push(`${await stream.next()}\n\n`);
      expect(blocks).toEqual([
        sseEvent(marker(1)),
        ...(interval === undefined ? [] : [SSE_KEEP_ALIVE]),
        sseEvent(marker(2)),
      ]);
      await stream.cancel();
    },
  );

  it("MAX_BODY_BYTES: the transport reads a body that long, and answers 413 to one byte more", async () => {
    const session = await bare();
    const exactly = JSON.stringify("a".repeat(MAX_BODY_BYTES - 2));
    const fits = await session.post(exactly);
    // Read in full and parsed: a JSON string is no JSON-RPC message.
    await expectSameAnswer(fits, errorResponse("invalid-message"));
    const over = await session.post(JSON.stringify("a".repeat(MAX_BODY_BYTES - 1)));
    expect(over.status).toBe(413);
  });

  it("MAX_BATCH_SIZE: the transport takes a batch that long, and refuses one more message", async () => {
    const session = await bare();
    const cancellation = {
      jsonrpc: "2.0",
      method: "notifications/cancelled",
      params: { requestId: "none" },
    };
    const full = await session.post(Array(MAX_BATCH_SIZE).fill(cancellation));
    expect(full.status).toBe(202);
    const over = await session.post(Array(MAX_BATCH_SIZE + 1).fill(cancellation));
    await expectSameAnswer(over, errorResponse("batch-too-large"));
  });

  it("SDK_REFUSALS and ALLOWED_METHODS: the transport answers these word for word as the handler does", async () => {
    const session = await bare();
    const tools = { jsonrpc: "2.0", id: 1, method: "tools/list" };
    const cases: Array<[Refusal, () => Promise<Response>]> = [
      [
        "session-not-found",
        () => session.post(tools, { ...SESSION_HEADERS, "mcp-session-id": "x" }),
      ],
      ["session-header-required", () => session.post(tools, { ...POST_HEADERS })],
      ["parse-error", () => session.post("{")],
      ["invalid-message", () => session.post([{ jsonrpc: "2.0", method: "x" }, { nope: 1 }])],
      ["batch-too-large", () => session.post(Array(MAX_BATCH_SIZE + 1).fill(tools))],
      ["method-not-allowed", () => session.send("PUT", SESSION_HEADERS)],
      ["not-acceptable", () => session.get({ accept: "application/json" })],
    ];
    for (const [refusal, send] of cases) {
      await expectSameAnswer(await send(), errorResponse(refusal));
    }
  });

  it("acceptsEventStream: the transport takes a GET stream exactly when it says", async () => {
    const session = await bare();
    const accepts = ["text/event-stream", "application/json", "*/*", "text/event-stream;q=0.5"];
    for (const accept of accepts) {
      const response = await session.get({ accept });
      await response.body?.cancel();
      const expected = acceptsEventStream(new Headers({ accept })) ? 200 : 406;
      expect([accept, response.status]).toEqual([accept, expected]);
    }
  });

  it("BODY_ALL_OR_NOTHING: one message that fails the schema, and the server gets none of the body", async () => {
    const session = await bare();
    const seen: JSONRPCMessage[] = [];
    const onmessage = session.transport.onmessage;
    session.transport.onmessage = (message, extra) => {
      seen.push(message);
      onmessage?.(message, extra);
    };
    const valid = { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } };
    const invalid = { jsonrpc: "2.0", id: {}, method: "ping" };
    expect([isJsonRpcMessage(valid), isJsonRpcMessage(invalid)]).toEqual([true, false]);
    await expectSameAnswer(await session.post([valid, invalid]), errorResponse("invalid-message"));
    expect(seen).toEqual([]);
  });

  it("goesOnStandaloneStream: the transport's send puts each message where it says", async () => {
    const store = new RecordingEventStore();
    const session = await bare({ eventStore: store });
    const call = toolCall("wait");
    const stream = new SseReader(await session.post(call));
    await stream.next(); // the priming event
    const requestStream = store.events.at(-1)?.streamId;
    const cases: Array<[JSONRPCMessage, number | undefined]> = [
      [
        { jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: 1 } },
        undefined,
      ],
      [
        { jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: 2 } },
        call.id,
      ],
      [{ jsonrpc: "2.0", id: 5, method: "ping" }, undefined],
      [{ jsonrpc: "2.0", id: call.id, result: { content: [] } }, undefined],
    ];
    for (const [message, relatedRequestId] of cases) {
      await session.transport.send(
        message,
        relatedRequestId === undefined ? {} : { relatedRequestId },
      );
      const streamId = store.events.at(-1)?.streamId;
      const standalone = goesOnStandaloneStream(messageKind(message), relatedRequestId);
      expect([message, streamId]).toEqual([
        message,
        standalone ? STANDALONE_STREAM_ID : requestStream,
      ]);
    }
  });

  it("endsRequestStream: a POST's stream ends once it carried the response", async () => {
    const session = await bare();
    const response = await session.post(toolCall("countdown", { from: 3 }, { progressToken: 1 }));
    const stream = new SseReader(response);
    const kinds: ReturnType<typeof messageKind>[] = [];
    for (let block = await stream.next(); block !== undefined; block = await stream.next()) {
      const data = block.split("\n").find((line) => line.startsWith("data: "));
      if (data) kinds.push(messageKind(JSON.parse(data.slice("data: ".length))));
    }
    expect(kinds).toEqual(["notification", "notification", "notification", "response"]);
    expect(kinds.map(endsRequestStream)).toEqual([false, false, false, true]);
  });

  it("isSdkRequestId and usesOwnIdAsProgressToken: a server numbers its requests from 0, the token is the id", async () => {
    const asking = new AbortController();
    const session = await bare({ setup: askTool(asking.signal) });
    const { request } = await ask(session);
    expect(request.id).toBe(0);
    expect(isSdkRequestId(request.id)).toBe(true);
    expect(usesOwnIdAsProgressToken(request)).toBe(true);
    asking.abort("done");
  });

  it("CANCELLATION_BY_ID: an aborted server request is cancelled by its own id, on its request's stream", async () => {
    const asking = new AbortController();
    const session = await bare({ setup: askTool(asking.signal) });
    const { stream, request } = await ask(session);
    asking.abort("no longer needed");
    const cancelled = await stream.message((m) => m.method === "notifications/cancelled");
    expect(cancelled).toMatchObject({ params: { requestId: request.id } });
  });

  it("ERROR_REPLY_FAILS_REQUEST: an error reply handed to onmessage fails the request with its code", async () => {
    const session = await bare({ setup: askTool(new AbortController().signal) });
    const { stream, request } = await ask(session);
    session.transport.onmessage?.({
      jsonrpc: "2.0",
      id: request.id,
      error: { code: ErrorCode.ConnectionClosed, message: "The session ended" },
    });
    const result = await stream.message(isResult);
    expect(result).toMatchObject({
      result: { content: [{ text: JSON.stringify({ code: ErrorCode.ConnectionClosed }) }] },
    });
  });

  it("ADOPTION_REPLAY: a fresh transport takes the replayed initialize, and the server its client", async () => {
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => "adopted",
    });
    const server = buildTestServer();
    await server.connect(transport);
    opened.push(() => server.close());
    const stored = {
      protocolVersion: "2025-06-18",
      capabilities: { elicitation: { form: {} }, roots: { listChanged: true } },
      clientInfo: { name: "stored-client", version: "4.5.6" },
    };
    const origin = new Request("http://127.0.0.1:1234/mcp", {
      headers: { host: "127.0.0.1:1234" },
    });
    const { initialize, initialized } = replayRequests(origin, "adopted", stored);
    const answer = await transport.handleRequest(initialize);
    expect([answer.status, answer.headers.get("mcp-session-id")]).toEqual([200, "adopted"]);
    // The response ends once the result is written: reading it to its end returns.
    expect(await answer.text()).toContain('"protocolVersion":"2025-06-18"');
    expect((await transport.handleRequest(initialized)).status).toBe(202);
    expect(server.server.getClientCapabilities()).toEqual(stored.capabilities);
    expect(server.server.getClientVersion()).toEqual(stored.clientInfo);
  });

  it("ALREADY_INITIALIZED: an initialize on an initialized transport gets 400, -32600", async () => {
    const session = await bare();
    const again = await session.post(INITIALIZE);
    expect({ status: again.status, body: await again.json() }).toEqual({
      status: 400,
      body: {
        jsonrpc: "2.0",
        error: { code: -32600, message: "Invalid Request: Server already initialized" },
        id: null,
      },
    });
  });

  it("PARSED_BODY: with parsedBody, the transport never reads the request's body", async () => {
    const session = await bare();
    const request = new Request(MCP_URL, {
      method: "POST",
      headers: SESSION_HEADERS,
      body: "not what is handled",
    });
    const parsedBody = { jsonrpc: "2.0", id: 1, method: "tools/list" };
    const response = await session.transport.handleRequest(request, { parsedBody });
    expect(await response.text()).toContain('"name":"add"');
    expect(request.bodyUsed).toBe(false);
  });

  it("ONE_STANDALONE_STREAM: a second GET stream gets 409 until the first one's body is cancelled", async () => {
    const session = await bare();
    const first = await session.get();
    expect(first.status).toBe(200);
    const second = await session.get();
    expect(second.status).toBe(409);
    await second.body?.cancel();
    await first.body?.cancel();
    const third = await session.get();
    expect(third.status).toBe(200);
    await third.body?.cancel();
  });

  it("DELETE_CLOSES: a DELETE gets 200 and closes the transport", async () => {
    const session = await bare();
    const closed = deferred();
    const onclose = session.transport.onclose;
    session.transport.onclose = () => {
      closed.resolve();
      onclose?.();
    };
    const answer = await session.send("DELETE", SESSION_HEADERS);
    expect(answer.status).toBe(200);
    await closed.promise;
  });

  it("ONCLOSE_CHAINED: connect keeps an onclose set before it, and calls it first", async () => {
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => "chained",
    });
    const calls: string[] = [];
    transport.onclose = () => calls.push("ours");
    const server = buildTestServer();
    server.server.onclose = () => calls.push("the server's");
    await server.connect(transport);
    await transport.close();
    expect(calls).toEqual(["ours", "the server's"]);
  });

  it("SERVER_CLOSE_CLOSES_TRANSPORT: server.close() ends its streams; the closed transport answers 404", async () => {
    const session = await bare();
    const stream = new SseReader(await session.get());
    await session.server.close();
    expect(await stream.next()).toBeUndefined();
    const after = await session.post({ jsonrpc: "2.0", id: 1, method: "tools/list" });
    expect(after.status).toBe(404); // before the body: a transport still open would stream it
    await expectSameAnswer(after, errorResponse("session-not-found"));
  });
});
