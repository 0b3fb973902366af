import { silentSendLog } from "@mcp-sessions/session-core";
import { MemorySessionStore } from "@mcp-sessions/session-memory";
import { RedisSessionStore } from "@mcp-sessions/session-redis";
import {
  type RedisTestCluster,
  type RedisTestServer,
  startRedis,
  startRedisCluster,
} from "@mcp-sessions/session-testing/redis";
import { deferred, pollUntil } from "@mcp-sessions/session-testing/wait";
import {
  CancelledNotificationSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { Cluster } from "ioredis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  alternate,
  connectClient,
  type HandlerFleet,
  type HandlerFleetOptions,
  type Instance,
  type RoutedFetch,
  routedFetch,
  startHandlerFleet,
} from "./support/handler-fleet.js";
import { initializeRaw, postRequest, readUntil } from "./support/http.js";

/** Where the fleet's sessions and relay live; every instance shares it. */
interface Backend {
  readonly name: string;
  start(): Promise<{ store: MemorySessionStore | RedisSessionStore; close(): Promise<void> }>;
}

let redis: Promise<RedisTestServer> | undefined;
let cluster: Promise<RedisTestCluster> | undefined;
let prefixes = 0;
afterAll(async () => {
  await (await redis)?.stop();
  await (await cluster)?.stop();
});

function nextPrefix(): string {
  return `fleet-messaging-${process.pid}-${++prefixes}`;
}

const backends: Backend[] = [
  {
    name: "a shared MemorySessionStore",
    start: async () => ({
      store: new MemorySessionStore({ logger: silentSendLog }),
      close: async () => {},
    }),
  },
  {
    // One store object serves every instance: each handler still joins the relay as a member of
    // its own, so every message between instances crosses Redis.
    name: "Redis",
    start: async () => {
      redis ??= startRedis();
      const { url } = await redis;
      const store = new RedisSessionStore({ url, prefix: nextPrefix(), logger: silentSendLog });
      await store.ready();
      return { store, close: () => store.close() };
    },
  },
  {
    // Members listen on sharded channels there, one per bucket, in the slots of its sessions.
    name: "a 3-master Redis Cluster",
    start: async () => {
      cluster ??= startRedisCluster({ masters: 3 });
      const client = new Cluster([...(await cluster).nodes], {
        redisOptions: { maxRetriesPerRequest: 1 },
      });
      const store = new RedisSessionStore({ client, prefix: nextPrefix(), logger: silentSendLog });
      await store.ready();
      return {
        store,
        close: async () => {
          await store.close();
          await client.quit();
        },
      };
    },
  },
];

/**
 * Waits until `done()` holds, checking every few ms; fails after 15 s, a bound generous enough
 * for a busy machine (a passing run returns as soon as `done()` holds).
 */
function until(done: () => boolean, what: string): Promise<void> {
  return pollUntil(done, { waitingFor: what, timeoutMs: 15_000, intervalMs: 5 });
}

function textOf(result: unknown): string {
  const content = (result as { content?: Array<{ text?: string }> }).content;
  return content?.[0]?.text ?? "";
}

/** The instance whose port served the last request with JSON-RPC method `rpc`. */
function portOf(fetch: RoutedFetch, rpc: string): number | undefined {
  return fetch.sent.filter((request) => request.rpc === rpc).at(-1)?.port;
}

/**
 * A fetch that cuts the first response to a request `matches` picks once `events` messages went
 * through, as a dropped connection would: the client then resumes with `Last-Event-ID`.
 */
function cuttingFetch(
  inner: RoutedFetch,
  matches: (init: RequestInit | undefined) => boolean,
  events: number,
): RoutedFetch {
  let cut = false;
  const cutting = async (url: string | URL, init?: RequestInit) => {
    const response = await inner(url, init);
    if (cut || !matches(init) || response.body === null) return response;
    cut = true;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let seen = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (seen >= events) {
          await reader.cancel();
          controller.error(new Error("connection cut by the test"));
          return;
        }
        const { done, value } = await reader.read();
        if (done) {
          controller.close();
          return;
        }
        seen += decoder.decode(value).split("\ndata: {").length - 1;
        controller.enqueue(value);
      },
      cancel: () => reader.cancel(),
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  return Object.assign(cutting, { sent: inner.sent });
}

/** Picks a POST that calls `tool`. */
function callsTool(tool: string): (init: RequestInit | undefined) => boolean {
  return (init) => typeof init?.body === "string" && init.body.includes(`"name":"${tool}"`);
}

const FAST_RECONNECT = {
  initialReconnectionDelay: 10,
  maxReconnectionDelay: 50,
  reconnectionDelayGrowFactor: 1,
  maxRetries: 5,
} as const;

describe.each(backends)("fleet messaging on $name", (backend) => {
  let fleet: HandlerFleet | undefined;
  let closeBackend: (() => Promise<void>) | undefined;
  const clients: Array<{ close(): Promise<void> }> = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    await fleet?.close();
    await closeBackend?.();
    fleet = undefined;
    closeBackend = undefined;
  });

  async function start(options: Omit<HandlerFleetOptions, "store"> = {}): Promise<HandlerFleet> {
    const { store, close } = await backend.start();
    closeBackend = close;
    fleet = await startHandlerFleet({ ...options, store });
    return fleet;
  }

  async function connect(...args: Parameters<typeof connectClient>) {
    const connected = await connectClient(...args);
    clients.push(connected.client);
    return connected;
  }

  const confirmed = { action: "accept", content: { confirmed: true } } as const;

  it("completes an elicitation whose reply lands on another instance", async () => {
    const { a, b } = await start();
    const { client, fetch } = await connect(a.url, routedFetch(alternate(a, b)), {
      capabilities: { elicitation: { form: {} } },
      prepare: (client) => client.setRequestHandler(ElicitRequestSchema, async () => confirmed),
    });
    const result = await client.callTool({ name: "confirm", arguments: { question: "Ship?" } });
    expect(JSON.parse(textOf(result))).toEqual(confirmed);
    expect(portOf(fetch, "response")).not.toBe(portOf(fetch, "tools/call"));
  });

  it("completes sampling and elicitation across three instances, every request alternating", async () => {
    const { instances } = await start({ size: 3 });
    const { client, fetch } = await connect(
      (instances[0] as Instance).url,
      routedFetch(alternate(...instances)),
      {
        capabilities: { elicitation: { form: {} }, sampling: {} },
        prepare: (client) => {
          client.setRequestHandler(ElicitRequestSchema, async () => confirmed);
          client.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
            model: "echo",
            role: "assistant",
            content: {
              type: "text",
              text: `echo: ${JSON.stringify(request.params.messages[0]?.content)}`,
            },
          }));
        },
      },
    );
    for (let round = 0; round < 3; round++) {
      const sampled = await client.callTool({ name: "sample", arguments: { prompt: `p${round}` } });
      expect(textOf(sampled)).toBe(`echo: {"type":"text","text":"p${round}"}`);
      const elicited = await client.callTool({ name: "confirm", arguments: { question: "?" } });
      expect(JSON.parse(textOf(elicited))).toEqual(confirmed);
    }
    const callPorts = fetch.sent.filter((request) => request.rpc === "tools/call");
    const replyPorts = fetch.sent.filter((request) => request.rpc === "response");
    expect(replyPorts).toHaveLength(6);
    for (const [index, reply] of replyPorts.entries()) {
      expect(reply.port).not.toBe(callPorts[index]?.port);
      expect(reply.status).toBe(202);
    }
  });

  it("cancels a tool on the instance running it when the cancellation lands elsewhere", async () => {
    const { a, b } = await start();
    const { client, fetch } = await connect(a.url, routedFetch(alternate(a, b)));
    const cancel = new AbortController();
    const call = client.callTool({ name: "wait", arguments: {} }, undefined, {
      signal: cancel.signal,
    });
    const settled = call.then(
      () => "resolved",
      () => "rejected",
    );
    await until(() => [a, b].some((i) => i.toolEvents.includes("wait-started")), "the tool");
    const runner = [a, b].find((i) => i.toolEvents.includes("wait-started")) as Instance;
    cancel.abort("the user changed their mind");
    expect(await settled).toBe("rejected");
    await until(() => runner.toolEvents.includes("wait-aborted"), "the AbortSignal");
    expect(runner.http.port).toBe(portOf(fetch, "tools/call"));
    await until(() => portOf(fetch, "notifications/cancelled") !== undefined, "the cancellation");
    expect(portOf(fetch, "notifications/cancelled")).not.toBe(runner.http.port);
    const other = runner === a ? b : a;
    expect(other.toolEvents).not.toContain("wait-aborted");
  });

  it("delivers a notification sent outside any request to the GET stream on another instance", async () => {
    const { a, b } = await start();
    // POSTs go to A, the standalone GET stream to B.
    const fetch = routedFetch((method) => (method === "GET" ? b.http.port : a.http.port), {
      standaloneStream: true,
    });
    const listChanged = deferred();
    const { client } = await connect(a.url, fetch, {
      prepare: (client) =>
        client.setNotificationHandler(ToolListChangedNotificationSchema, async () =>
          listChanged.resolve(),
        ),
    });
    await until(
      () => fetch.sent.some((request) => request.method === "GET" && request.status === 200),
      "the GET stream",
    );
    expect(textOf(await client.callTool({ name: "announce", arguments: {} }))).toBe("announced");
    await listChanged.promise;
    expect(a.created).toHaveLength(1);
  });

  it("resumes a cut stream on another instance with Last-Event-ID: no gap, no duplicate", async () => {
    const { a, b } = await start({ handler: { resumable: true } });
    const fetch = cuttingFetch(
      routedFetch(alternate(a, b), { standaloneStream: true }),
      callsTool("ticker"),
      3,
    );
    const { client } = await connect(a.url, fetch, { reconnection: FAST_RECONNECT });
    const progress: number[] = [];
    const tokens: string[] = [];
    const result = await client.callTool(
      { name: "ticker", arguments: { count: 8, intervalMs: 20 } },
      undefined,
      {
        onprogress: ({ progress: tick }) => progress.push(tick),
        onresumptiontoken: (token) => tokens.push(token),
      },
    );
    expect(textOf(result)).toBe("ticked 8");
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(new Set(tokens).size).toBe(tokens.length);
    const resumed = fetch.sent.filter((request) => request.lastEventId !== undefined);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]?.port).not.toBe(portOf(fetch, "tools/call"));
    expect(tokens).toContain(resumed[0]?.lastEventId);
  });

  it("resumes the GET stream on another instance: what was sent meanwhile arrives once", async () => {
    const { a, b } = await start({ handler: { resumable: true } });
    let gets = 0;
    // The first GET stream is on B; every later one, and every POST, on A.
    const routed = routedFetch(
      (method) => (method === "GET" && gets++ === 0 ? b.http.port : a.http.port),
      { standaloneStream: true },
    );
    const fetch = cuttingFetch(routed, (init) => (init?.method ?? "GET") === "GET", 1);
    let listChanged = 0;
    const { client } = await connect(a.url, fetch, {
      reconnection: FAST_RECONNECT,
      prepare: (client) =>
        client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
          listChanged++;
        }),
    });
    await until(
      () => fetch.sent.some((request) => request.status === 200 && request.method === "GET"),
      "the GET stream",
    );
    // The first notification goes out on B's stream, which the client then loses.
    await client.callTool({ name: "announce", arguments: {} });
    await until(() => listChanged === 1, "the first notification");
    await client.callTool({ name: "announce", arguments: {} });
    await client.callTool({ name: "announce", arguments: {} });
    await until(() => listChanged >= 3, "the notifications sent while the stream was down");
    // A marker after them on the same stream: once it is in, a duplicate of any earlier one,
    // replayed or live, would have arrived before it.
    await client.callTool({ name: "announce", arguments: {} });
    await until(() => listChanged >= 4, "the marker notification");
    expect(listChanged).toBe(4);
    const resumed = fetch.sent.filter((request) => request.lastEventId !== undefined);
    expect(resumed.length).toBeGreaterThan(0);
    for (const request of resumed) expect(request.port).toBe(a.http.port);
  });

  it("keeps a resumed stream alive with the transport's keepAliveMs comments", async () => {
    const { a, b } = await start({ handler: { resumable: true, transport: { keepAliveMs: 20 } } });
    const session = await initializeRaw(a.url);
    const stream = await fetch(a.url, {
      headers: { ...session.headers, accept: "text/event-stream" },
    });
    await (await postRequest(a.url, session, "tools/call", { name: "announce" })).text();
    const lastEventId = /^id: (.+)$/m.exec(await readUntil(stream, "\ndata: "))?.[1];
    expect(lastEventId).toMatch(/^_GET_stream\./);
    const resumed = await fetch(b.url, {
      headers: {
        ...session.headers,
        accept: "text/event-stream",
        "last-event-id": lastEventId as string,
      },
    });
    expect(resumed.status).toBe(200);
    expect(await readUntil(resumed, ": keepalive\n\n")).toContain(": keepalive\n\n");
  });

  it("fails a pending elicitation with a clear error when the session is deleted", async () => {
    const { a, b } = await start();
    const asked = deferred();
    const { client, transport } = await connect(a.url, routedFetch(alternate(a, b)), {
      capabilities: { elicitation: { form: {} } },
      prepare: (client) =>
        client.setRequestHandler(ElicitRequestSchema, async () => {
          asked.resolve();
          return new Promise<never>(() => {});
        }),
    });
    void client.callTool({ name: "confirm", arguments: { question: "?" } }).catch(() => {});
    await asked.promise;
    await transport.terminateSession();
    const failures = () =>
      [...a.toolEvents, ...b.toolEvents].filter((event) =>
        event.startsWith("client-request-failed"),
      );
    await until(() => failures().length > 0, "the elicitation to fail");
    expect(failures()).toEqual([
      "client-request-failed: MCP error -32000: The session ended, or its server closed, before the client replied",
    ]);
  });

  it("times out a server request whose reply never comes, as the SDK does, and tells the client", async () => {
    const { a, b } = await start();
    const cancelled: unknown[] = [];
    const { client } = await connect(a.url, routedFetch(alternate(a, b)), {
      capabilities: { elicitation: { form: {} } },
      prepare: (client) => {
        client.setRequestHandler(ElicitRequestSchema, () => new Promise<never>(() => {}));
        client.setNotificationHandler(CancelledNotificationSchema, async (notification) => {
          cancelled.push(notification.params.requestId);
        });
      },
    });
    const result = await client.callTool({
      name: "confirm",
      arguments: { question: "?", timeoutMs: 100 },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain("Request timed out");
    expect(a.toolEvents).toEqual(["client-request-failed: MCP error -32001: Request timed out"]);
    // The cancellation names the request by the id the client saw.
    await until(() => cancelled.length > 0, "the cancellation");
    expect(cancelled).toEqual([expect.stringMatching(/^.+\.0$/)]);
  });

  it("answers 410 to a reply whose instance has stopped, and keeps serving the session", async () => {
    const { a, b } = await start();
    const { client, fetch } = await connect(a.url, routedFetch(alternate(a, b)), {
      capabilities: { elicitation: { form: {} } },
      prepare: (client) =>
        client.setRequestHandler(ElicitRequestSchema, async () => {
          // The instance that asked goes away before the reply is sent.
          await a.handler.close();
          return confirmed;
        }),
    });
    void client
      .callTool({ name: "confirm", arguments: { question: "?" } }, undefined, { timeout: 2_000 })
      .catch(() => {});
    await until(() => fetch.sent.some((request) => request.rpc === "response"), "the reply");
    await until(() => fetch.sent.at(-1)?.status !== undefined, "the reply's answer");
    expect(fetch.sent.filter((request) => request.rpc === "response").at(-1)).toMatchObject({
      port: b.http.port,
      status: 410,
    });
    expect(portOf(fetch, "tools/call")).toBe(a.http.port);
  });
});
