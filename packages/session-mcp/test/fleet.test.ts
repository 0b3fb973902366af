import { StoreUnavailableError } from "@mcp-sessions/session-core";
import { deferred } from "@mcp-sessions/session-testing/wait";
import { afterEach, describe, expect, it } from "vitest";
import {
  alternate,
  connectClient,
  type HandlerFleet,
  routedFetch,
  startHandlerFleet,
} from "./support/handler-fleet.js";
import {
  errorOf,
  INITIALIZE,
  initializeRaw,
  jsonRpcMessages,
  postRequest,
  rawRequest,
} from "./support/http.js";
import { InstrumentedStore } from "./support/instrumented-store.js";

/**
 * How long a request, a sweep or the `ended` they cause may take to arrive on a busy machine;
 * generous, a passing run is quick. (`expect.poll` alone gives up after 1 s.)
 */
const SIGNAL_WAIT = { timeout: 10_000, interval: 20 } as const;

let fleet: HandlerFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

/** The text of the first content item of a `tools/call` result in a raw response. */
async function toolText(response: Response): Promise<string | undefined> {
  const [message] = await jsonRpcMessages(response);
  const result = message?.result as { content?: Array<{ text?: string }> } | undefined;
  return result?.content?.[0]?.text;
}

describe("adoption", () => {
  it("serves a session made on A from B, with the client's capabilities and version restored", async () => {
    fleet = await startHandlerFleet();
    const { a, b } = fleet;
    const capabilities = {
      sampling: {},
      roots: { listChanged: true },
      elicitation: { form: {}, url: {} },
      experimental: { "x-trace": { level: 2 } },
    };
    const clientInfo = { name: "fleet-client", version: "4.5.6" };
    const { client, fetch } = await connectClient(a.url, routedFetch(alternate(a, b)), {
      capabilities,
      clientInfo,
    });
    // initialize went to A, notifications/initialized to B: B adopted the session right away.
    const seen = [];
    for (let i = 0; i < 4; i++) {
      const result = await client.callTool({ name: "whoami", arguments: {} });
      const [content] = result.content as Array<{ text: string }>;
      seen.push(JSON.parse(content?.text ?? "null"));
    }
    expect(fetch.sent.map(({ port }) => port)).toEqual([
      a.http.port,
      b.http.port,
      a.http.port,
      b.http.port,
      a.http.port,
      b.http.port,
    ]);
    for (const view of seen) expect(view).toEqual({ capabilities, clientVersion: clientInfo });
    expect(a.created).toHaveLength(1);
    expect(b.created).toEqual(a.created);
    await client.close();
  });

  it("makes every request with a session header one store round trip, adoption included", async () => {
    const store = new InstrumentedStore();
    fleet = await startHandlerFleet({ store });
    const { a, b } = fleet;
    const session = await initializeRaw(a.url);
    const expected = { create: 0, get: 0, touch: 1, delete: 0 };

    store.resetCalls();
    expect(await toolText(await postRequest(b.url, session, "tools/call", addArgs(1, 2)))).toBe(
      "3",
    );
    expect(b.created).toEqual([session.id]); // that request adopted the session on B
    expect(store.calls).toEqual(expected);

    for (const instance of [a, b]) {
      store.resetCalls();
      expect((await postRequest(instance.url, session, "tools/list")).status).toBe(200);
      expect(store.calls).toEqual(expected);
    }
  });

  it("shares one adoption between concurrent first requests", async () => {
    fleet = await startHandlerFleet();
    const { a, b } = fleet;
    const session = await initializeRaw(a.url);
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => postRequest(b.url, session, "tools/call", addArgs(i, 1))),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(8).fill(200));
    expect(await Promise.all(responses.map(toolText))).toEqual(
      Array.from({ length: 8 }, (_, i) => String(i + 1)),
    );
    expect(b.created).toEqual([session.id]);
  });

  it("cleans up an adoption whose createServer threw, and the next request adopts afresh", async () => {
    const store = new InstrumentedStore();
    const release = deferred();
    let failures = 1;
    fleet = await startHandlerFleet({
      store,
      beforeCreateServer: async (instance) => {
        if (instance !== "B" || failures-- <= 0) return;
        await release.promise;
        throw new Error("database not ready");
      },
    });
    const { a, b } = fleet;
    const session = await initializeRaw(a.url);
    store.resetCalls();
    const pending = [
      postRequest(b.url, session, "tools/list"),
      postRequest(b.url, session, "tools/list"),
    ];
    // Both requests are past the store and waiting on the one adoption.
    await expect.poll(() => store.calls.touch, SIGNAL_WAIT).toBe(2);
    release.resolve();
    const failed = await Promise.all(pending);
    for (const response of failed) {
      expect(await errorOf(response)).toEqual({ status: 500, code: -32603, id: null });
    }
    expect(b.created).toHaveLength(1); // the two requests shared the failed attempt

    expect(await toolText(await postRequest(b.url, session, "tools/call", addArgs(2, 2)))).toBe(
      "4",
    );
    expect(b.created).toEqual([session.id, session.id]);
    // The session itself was never harmed: A still serves it.
    expect((await postRequest(a.url, session, "tools/list")).status).toBe(200);
  });

  it("closes the server of an adoption whose replayed initialize the SDK rejects", async () => {
    fleet = await startHandlerFleet();
    const { b } = fleet;
    // A record whose stored initialize the SDK's schema refuses (`roots` must be an object),
    // as after a store edit or an SDK upgrade that tightened the schema.
    const record = await fleet.a.sessions.create({
      protocolVersion: "2025-06-18",
      capabilities: { roots: "everything" },
      clientInfo: { name: "c", version: "1" },
    });
    const session = {
      id: record.id,
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-session-id": record.id,
      },
    };
    expect(await errorOf(await postRequest(b.url, session, "tools/list"))).toEqual({
      status: 500,
      code: -32603,
      id: null,
    });
    expect(b.created).toEqual([record.id]);
    expect(b.closed).toEqual([record.id]);
    // Nothing half-built was kept: the next request tries a whole adoption again.
    await postRequest(b.url, session, "tools/list");
    expect(b.created).toEqual([record.id, record.id]);
  });

  it("adopts behind the transport's DNS-rebinding protection", async () => {
    fleet = await startHandlerFleet({
      handler: (urls) => ({
        transport: {
          enableDnsRebindingProtection: true,
          allowedHosts: urls.map((url) => url.host),
        },
      }),
    });
    const { a, b } = fleet;
    const session = await initializeRaw(a.url);
    expect(await toolText(await postRequest(b.url, session, "tools/call", addArgs(3, 4)))).toBe(
      "7",
    );
    expect(b.created).toEqual([session.id]);
    // The protection itself still holds: a Host the server does not answer to is refused.
    const foreignHost = await rawRequest(b.url, {
      method: "POST",
      headers: { ...session.headers, host: "evil.example:80" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(foreignHost.status).toBe(403);
  });

  it("refuses a replayed initialize with the session's header on an instance adopting it", async () => {
    fleet = await startHandlerFleet();
    const { a, b } = fleet;
    const session = await initializeRaw(a.url);
    const replayed = await fetch(b.url, {
      method: "POST",
      headers: session.headers,
      body: JSON.stringify(INITIALIZE),
    });
    expect(await errorOf(replayed)).toEqual({ status: 400, code: -32600, id: null });
    expect(b.created).toEqual([session.id]);
    expect(await toolText(await postRequest(b.url, session, "tools/call", addArgs(6, 7)))).toBe(
      "13",
    );
    expect(b.created).toEqual([session.id]); // the session survived, adopted once
  });

  it("answers 503 when the store fails, never 404, and serves the next request", async () => {
    const store = new InstrumentedStore();
    fleet = await startHandlerFleet({ store });
    const { a, b } = fleet;
    const session = await initializeRaw(a.url);
    store.failNextTouch = new StoreUnavailableError("connection reset");
    const response = await postRequest(b.url, session, "tools/list");
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await errorOf(response)).toEqual({ status: 503, code: -32000, id: null });
    expect(b.created).toEqual([]);
    expect(await toolText(await postRequest(b.url, session, "tools/call", addArgs(5, 5)))).toBe(
      "10",
    );
    expect(b.created).toEqual([session.id]);
  });
});

describe("ending a session anywhere", () => {
  it("DELETE on B closes the session on A too, and A then answers 404", async () => {
    fleet = await startHandlerFleet();
    const { a, b } = fleet;
    const { client, transport, fetch } = await connectClient(a.url, routedFetch(alternate(a, b)));
    await client.listTools(); // on A
    const id = transport.sessionId as string;
    await transport.terminateSession(); // DELETE on B
    expect(fetch.sent.at(-1)).toMatchObject({ method: "DELETE", port: b.http.port });
    expect(b.closed).toEqual([id]);
    await expect.poll(() => a.closed, SIGNAL_WAIT).toEqual([id]);

    const session = { id, headers: { ...SESSION_HEADERS, "mcp-session-id": id } };
    expect(await errorOf(await postRequest(a.url, session, "tools/list"))).toEqual({
      status: 404,
      code: -32001,
      id: null,
    });
    expect(a.created).toHaveLength(1); // A did not adopt a deleted session
    await client.close();
  });

  it("expiry closes the session's transport and server on every instance", async () => {
    // The clock moves only when the test moves it, so no slow request can outlive the ttl.
    let now = Date.now();
    const ttl = 60_000;
    fleet = await startHandlerFleet({
      manager: { ttl, cleanupInterval: 50, clock: { now: () => now } },
    });
    const { a, b } = fleet;
    const session = await initializeRaw(a.url);
    expect((await postRequest(b.url, session, "tools/list")).status).toBe(200);
    expect(b.created).toEqual([session.id]);

    now += ttl; // idle for exactly the ttl: the next sweep on either instance claims it
    await expect.poll(() => a.closed, SIGNAL_WAIT).toEqual([session.id]);
    await expect.poll(() => b.closed, SIGNAL_WAIT).toEqual([session.id]);
    expect(await errorOf(await postRequest(b.url, session, "tools/list"))).toEqual({
      status: 404,
      code: -32001,
      id: null,
    });
  });

  it("a DELETE that lands while B is still adopting the session leaves nothing open on B", async () => {
    const adopting = deferred();
    const release = deferred();
    fleet = await startHandlerFleet({
      beforeCreateServer: async (instance) => {
        if (instance !== "B") return;
        adopting.resolve();
        await release.promise;
      },
    });
    const { a, b } = fleet;
    const session = await initializeRaw(a.url);
    const pending = postRequest(b.url, session, "tools/list");
    await adopting.promise;
    const deleted = await fetch(a.url, { method: "DELETE", headers: session.headers });
    expect(deleted.status).toBe(200);
    await expect.poll(() => a.closed, SIGNAL_WAIT).toEqual([session.id]);

    release.resolve();
    const response = await pending;
    expect([200, 404]).toContain(response.status);
    await response.arrayBuffer();
    await expect.poll(() => b.closed, SIGNAL_WAIT).toEqual([session.id]);
  });
});

const SESSION_HEADERS = {
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
};

function addArgs(a: number, b: number) {
  return { name: "add", arguments: { a, b } };
}
