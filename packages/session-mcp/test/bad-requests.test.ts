import { Agent, request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Fleet, startFleet } from "./support/fleet.js";
import {
  errorOf,
  INITIALIZE,
  initializeRaw,
  POST_HEADERS,
  postRequest,
  type RawSession,
  rawRequest,
} from "./support/http.js";

const TOOLS_LIST = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });

let fleet: Fleet;
let session: RawSession;
beforeAll(async () => {
  fleet = await startFleet({ size: 1 });
  session = await initializeRaw(fleet.a.url);
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

async function expectStillServing(): Promise<void> {
  const response = await postRequest(fleet.a.url, session, "tools/call", {
    name: "add",
    arguments: { a: 1, b: 2 },
  });
  expect(response.status).toBe(200);
  expect(await response.text()).toContain('"text":"3"');
}
