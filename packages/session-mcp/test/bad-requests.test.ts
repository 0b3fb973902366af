import { Agent, request, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { type LogEntry, SessionManager, silentSendLog } from "@mcp-sessions/session-core";
import { MemorySessionStore } from "@mcp-sessions/session-memory";
import { RedisSessionStore } from "@mcp-sessions/session-redis";
import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { deferred } from "@mcp-sessions/session-testing/wait";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createMcpSessionHandler, type McpServerLike } from "../src/index.js";
import { type HandlerFleet, startHandlerFleet } from "./support/handler-fleet.js";
import {
  errorOf,
  INITIALIZE,
  initializeRaw,
  listen,
  nestedJson,
  POST_HEADERS,
  postRequest,
  type RawSession,
  rawRequest,
} from "./support/http.js";
import { buildTestServer } from "./support/test-server.js";

const TOOLS_LIST = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });

let fleet: HandlerFleet;
let session: RawSession;
/** What the handler logged during the current test. */
const logged: LogEntry[] = [];
beforeAll(async () => {
  fleet = await startHandlerFleet({
    size: 1,
    handler: { logger: (entry) => void logged.push(entry) },
  });
  session = await initializeRaw(fleet.a.url);
});
beforeEach(() => {
  logged.length = 0;
});
afterAll(() => fleet.close());

interface Case {
  readonly name: string;
  readonly send: (url: URL) => Promise<Response>;
  readonly status: number;
  readonly code: number;
}

const CASES: readonly Case[] = [
  {
    name: "malformed JSON",
    send: (url) =>
      fetch(url, { method: "POST", headers: session.headers, body: '{"jsonrpc": "2.0", "id": 1,' }),
    status: 400,
    code: -32700,
  },
  {
    name: "malformed JSON without a session",
    send: (url) => fetch(url, { method: "POST", headers: POST_HEADERS, body: "not json" }),
    status: 400,
    code: -32700,
  },
  {
    name: "an Accept header without text/event-stream",
    send: (url) =>
      fetch(url, {
        method: "POST",
        headers: { ...session.headers, accept: "application/json" },
        body: TOOLS_LIST,
      }),
    status: 406,
    code: -32000,
  },
  {
    name: "an initialize whose Accept lacks text/event-stream",
    send: (url) =>
      fetch(url, {
        method: "POST",
        headers: { ...POST_HEADERS, accept: "application/json" },
        body: JSON.stringify(INITIALIZE),
      }),
    status: 406,
    code: -32000,
  },
  {
    name: "a 10 KB session id",
    send: (url) =>
      fetch(url, {
        method: "POST",
        headers: { ...session.headers, "mcp-session-id": "a".repeat(10 * 1024) },
        body: TOOLS_LIST,
      }),
    status: 400,
    code: -32000,
  },
  {
    name: "a replayed initialize on a live session",
    send: (url) =>
      fetch(url, { method: "POST", headers: session.headers, body: JSON.stringify(INITIALIZE) }),
    status: 400,
    code: -32600,
  },
  {
    name: "a request without a session header",
    send: (url) => fetch(url, { method: "POST", headers: POST_HEADERS, body: TOOLS_LIST }),
    status: 400,
    code: -32000,
  },
  {
    name: "a GET without a session header",
    send: (url) => fetch(url, { headers: { accept: "text/event-stream" } }),
    status: 400,
    code: -32000,
  },
  {
    name: "a DELETE without a session header",
    send: (url) => fetch(url, { method: "DELETE" }),
    status: 400,
    code: -32000,
  },
  {
    name: "PUT",
    send: (url) => fetch(url, { method: "PUT", headers: session.headers, body: TOOLS_LIST }),
    status: 405,
    code: -32000,
  },
  {
    name: "an unknown session id",
    send: (url) =>
      fetch(url, {
        method: "POST",
        headers: { ...session.headers, "mcp-session-id": "no-such-session" },
        body: TOOLS_LIST,
      }),
    status: 404,
    code: -32001,
  },
  {
    name: "an initialize whose params nest 5,000 levels deep",
    send: (url) =>
      fetch(url, {
        method: "POST",
        headers: POST_HEADERS,
        body: withNested(INITIALIZE, ["params", "capabilities", "experimental"], 5_000),
      }),
    status: 400,
    code: -32600,
  },
  {
    // Within the body's limit, over the manager's 32 levels for metadata.
    name: "an initialize whose params nest 40 levels deep",
    send: (url) =>
      fetch(url, {
        method: "POST",
        headers: POST_HEADERS,
        body: withNested(INITIALIZE, ["params", "capabilities", "experimental"], 40),
      }),
    status: 400,
    code: -32602,
  },
  {
    name: "a tools/call whose arguments nest 5,000 levels deep",
    send: (url) =>
      fetch(url, {
        method: "POST",
        headers: session.headers,
        body: withNested(
          { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "add", arguments: {} } },
          ["params", "arguments", "a"],
          5_000,
        ),
      }),
    status: 400,
    code: -32600,
  },
  {
    name: "a batch of 101 requests",
    send: (url) =>
      fetch(url, {
        method: "POST",
        headers: session.headers,
        body: JSON.stringify(
          Array.from({ length: 101 }, (_, id) => ({ jsonrpc: "2.0", id, method: "tools/list" })),
        ),
      }),
    status: 400,
    code: -32600,
  },
  {
    name: "a body over 4 MB",
    send: (url) =>
      fetch(url, {
        method: "POST",
        headers: session.headers,
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "x",
          params: { pad: "x".repeat(5e6) },
        }),
      }),
    status: 413,
    code: -32000,
  },
];

describe("bad requests", () => {
  it.each(CASES)("answers $name with $status $code, then serves the session", async (bad) => {
    const response = await bad.send(fleet.a.url);
    expect(await errorOf(response)).toEqual({ status: bad.status, code: bad.code, id: null });
    if (bad.status === 405) expect(response.headers.get("allow")).toBe("GET, POST, DELETE");
    await expectStillServing();
    // A client's mistake is no server error: the error log stays for what is.
    expect(logged.filter((entry) => entry.level === "error")).toEqual([]);
  });

  it("answers a session id with non-ASCII bytes with 400 or 404, never 500", async () => {
    const latin1 = Buffer.from([0x73, 0x69, 0x64, 0xe9, 0xff]).toString("latin1");
    for (const method of ["POST", "GET", "DELETE"]) {
      const response = await rawRequest(fleet.a.url, {
        method,
        headers: { ...session.headers, "mcp-session-id": latin1 },
        ...(method === "POST" ? { body: TOOLS_LIST } : {}),
      });
      expect([400, 404]).toContain(response.status);
      expect(JSON.parse(response.body)).toMatchObject({ jsonrpc: "2.0", error: {}, id: null });
    }
    await expectStillServing();
  });

  it("closes the connection after a 413, so no request follows the unread body", async () => {
    // One keep-alive socket: without `Connection: close` the next request would reuse it, and
    // its bytes would land after the unread rest of the oversized body.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const send = (body: string) =>
        new Promise<{ status: number; connection: string | undefined; text: string }>(
          (resolve, reject) => {
            const req = request(
              fleet.a.url,
              { method: "POST", headers: session.headers, agent, timeout: 5_000 },
              (res) => {
                let text = "";
                res.setEncoding("utf8");
                res.on("data", (chunk: string) => {
                  text += chunk;
                });
                res.on("end", () =>
                  resolve({
                    status: res.statusCode ?? 0,
                    connection: res.headers.connection,
                    text,
                  }),
                );
              },
            );
            req.on("timeout", () => req.destroy(new Error("no response within 5 s")));
            req.on("error", reject);
            req.end(body);
          },
        );
      const big = JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "x",
        params: { pad: "x".repeat(5e6) },
      });
      const refused = await send(big);
      expect(refused.status).toBe(413);
      expect(refused.connection).toBe("close");
      const next = await send(TOOLS_LIST);
      expect(next.status).toBe(200);
      expect(next.text).toContain('"tools"');
    } finally {
      agent.destroy();
    }
  });

  it("answers a malformed Host header as a client error, never 500", async () => {
    const response = await rawRequest(fleet.a.url, {
      method: "POST",
      headers: { ...session.headers, host: "[not a host" },
      body: TOOLS_LIST,
    });
    expect(response.status).toBeLessThan(500);
    await expectStillServing();
  });

  it("keeps no session for an initialize the transport refused", async () => {
    const before = await fleet.a.sessions.getActiveSessionCount();
    const response = await fetch(fleet.a.url, {
      method: "POST",
      headers: { ...POST_HEADERS, "content-type": "text/plain" },
      body: JSON.stringify(INITIALIZE),
    });
    expect(await errorOf(response)).toEqual({ status: 415, code: -32000, id: null });
    expect(await fleet.a.sessions.getActiveSessionCount()).toBe(before);
  });
});

describe("refused before anything is routed", () => {
  // A Redis of its own: PUBLISH is counted server-wide, so nobody else may publish there.
  let redis: SpawnedRedis;
  let admin: Redis;
  let store: RedisSessionStore;
  let routing: HandlerFleet;
  let routingSession: RawSession;
  beforeAll(async () => {
    redis = await spawnRedisServer();
    admin = new Redis(redis.url);
    store = new RedisSessionStore({
      url: redis.url,
      prefix: "bad-requests",
      logger: silentSendLog,
    });
    await store.ready();
    routing = await startHandlerFleet({
      store,
      size: 2,
      handler: { logger: (entry) => void logged.push(entry) },
    });
    routingSession = await initializeRaw(routing.a.url);
  });
  afterAll(async () => {
    await routing?.close();
    await store?.close();
    admin?.disconnect();
    await redis?.stop();
  });

  /** Sends `body` in the session to A, and how many PUBLISHes Redis ran meanwhile. */
  async function postCountingPublishes(body: string) {
    const before = await publishCalls(admin);
    const response = await fetch(routing.a.url, {
      method: "POST",
      headers: routingSession.headers,
      body,
    });
    // Broadcasts are awaited before the response, so the count is final once it is in.
    const status = response.status;
    const code = status === 202 ? undefined : (await errorOf(response)).code;
    return { status, code, publishes: (await publishCalls(admin)) - before };
  }

  const notifications = (count: number) =>
    JSON.stringify(
      Array.from({ length: count }, () => ({ jsonrpc: "2.0", method: "notifications/x" })),
    );

  it("broadcasts a batch of 100 client notifications, the SDK's limit: one PUBLISH each", async () => {
    expect(await postCountingPublishes(notifications(100))).toEqual({
      status: 202,
      code: undefined,
      publishes: 100,
    });
  });

  it("refuses 85,000 notifications in 3.65 MB with 400 and no PUBLISH", async () => {
    const body = notifications(85_000);
    expect(body.length).toBeGreaterThan(3_600_000);
    expect(await postCountingPublishes(body)).toEqual({ status: 400, code: -32600, publishes: 0 });
  });

  it("refuses a batch with a member that is not JSON-RPC with 400 and no PUBLISH", async () => {
    const body = JSON.stringify([
      { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } },
      { jsonrpc: "2.0" },
    ]);
    expect(await postCountingPublishes(body)).toEqual({ status: 400, code: -32700, publishes: 0 });
  });

  it("refuses a cancellation nested 5,000 levels deep with 400, no PUBLISH and no error", async () => {
    const body = withNested(
      { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 1 } },
      ["params", "reason"],
      5_000,
    );
    expect(await postCountingPublishes(body)).toEqual({ status: 400, code: -32600, publishes: 0 });
    expect(logged.filter((entry) => entry.level === "error")).toEqual([]);
  });
});

describe("a client that hangs up", () => {
  /** One handler on its own server, each request's handler promise and response kept. */
  async function startServer(createServer: () => Promise<McpServerLike>) {
    const entries: LogEntry[] = [];
    const firstEntry = deferred<LogEntry>();
    const store = new MemorySessionStore();
    const sessions = new SessionManager({ store });
    const handler = createMcpSessionHandler({
      sessions,
      createServer,
      logger: (entry) => {
        entries.push(entry);
        firstEntry.resolve(entry);
      },
    });
    const arrived = deferred<{ res: ServerResponse; closed: Promise<void>; done: Promise<void> }>();
    const http = await listen((req, res) => {
      const closed = new Promise<void>((resolve) => res.once("close", () => resolve()));
      arrived.resolve({ res, closed, done: handler(req, res) });
    });
    return {
      entries,
      sessions,
      firstEntry: firstEntry.promise,
      arrived: arrived.promise,
      port: http.port,
      async close() {
        await handler.close();
        await http.close();
        await sessions.close();
        await store.close();
      },
    };
  }

  /** A raw socket that has sent a POST's headers, declaring `contentLength`, and `body`. */
  async function postRaw(port: number, contentLength: number, body: string): Promise<Socket> {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => {});
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    const head = [
      "POST /mcp HTTP/1.1",
      `Host: 127.0.0.1:${port}`,
      "Content-Type: application/json",
      "Accept: application/json, text/event-stream",
      `Content-Length: ${contentLength}`,
    ].join("\r\n");
    await new Promise<void>((resolve) => socket.write(`${head}\r\n\r\n${body}`, () => resolve()));
    return socket;
  }

  it("mid-body is logged at debug, and nothing is written to its socket", async () => {
    const server = await startServer(async () => buildTestServer());
    try {
      const body = JSON.stringify(INITIALIZE);
      const socket = await postRaw(server.port, body.length, body.slice(0, 20));
      const { res, done } = await server.arrived;
      socket.destroy();
      // The handler's only entry for this request, logged when there is nothing left to do.
      expect(await server.firstEntry).toMatchObject({
        level: "debug",
        logger: "session-mcp/handler",
      });
      expect(res.headersSent).toBe(false);
      await done;
      expect(server.entries.filter((entry) => entry.level !== "debug")).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it("while its initialize waits for the server gets nothing written, and no error", async () => {
    const building = deferred();
    const release = deferred();
    const server = await startServer(async () => {
      building.resolve();
      await release.promise;
      return buildTestServer();
    });
    try {
      const body = JSON.stringify(INITIALIZE);
      const socket = await postRaw(server.port, body.length, body);
      const { res, closed, done } = await server.arrived;
      await building.promise;
      socket.destroy();
      await closed;
      release.resolve();
      // Logged just before the response would have been written.
      expect(await server.firstEntry).toMatchObject({ level: "debug" });
      expect(res.headersSent).toBe(false);
      await done;
      expect(res.headersSent).toBe(false);
      expect(server.entries.filter((entry) => entry.level !== "debug")).toEqual([]);
      // Nobody got the session's id, so nothing of it is kept.
      await expect.poll(() => server.sessions.getActiveSessionCount()).toBe(0);
    } finally {
      await server.close();
    }
  });
});

async function publishCalls(admin: Redis): Promise<number> {
  const stats = await admin.info("commandstats");
  return Number(/^cmdstat_publish:calls=(\d+)/m.exec(stats)?.[1] ?? 0);
}

async function expectStillServing(): Promise<void> {
  const response = await postRequest(fleet.a.url, session, "tools/call", {
    name: "add",
    arguments: { a: 1, b: 2 },
  });
  expect(response.status).toBe(200);
  expect(await response.text()).toContain('"text":"3"');
}

/**
 * `message` as JSON, with the value at `path` replaced by objects nested `depth` levels deep.
 * Built as text: `JSON.stringify` itself overflows on such a value.
 */
function withNested(message: object, path: readonly string[], depth: number): string {
  const marker = "__nested__";
  const copy = structuredClone(message) as Record<string, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string, unknown>;
  parent[path.at(-1) as string] = marker;
  return JSON.stringify(copy).replace(JSON.stringify(marker), nestedJson(depth));
}
