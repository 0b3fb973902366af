import type { Server } from "node:http";
import { SessionManager, silentSendLog } from "@mcp-sessions/session-core";
import { MemorySessionStore } from "@mcp-sessions/session-memory";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createMcpSessionHandler } from "../src/index.js";
import { type HandlerFleet, startHandlerFleet } from "./support/handler-fleet.js";
import { errorOf, initializeRaw, listen, postRequest } from "./support/http.js";
import { InstrumentedStore } from "./support/instrumented-store.js";
import { activeResourceCounts, ResourceTracker, resourcesBeyond } from "./support/resources.js";
import { buildTestServer } from "./support/test-server.js";

/** Resources created by the handler, its manager and store, or the SDK's server transport. */
const FROM_HANDLER =
  /session-mcp\/src\/|session-core\/(src|dist)\/|session-memory\/(src|dist)\/|@modelcontextprotocol\/sdk\/dist\/esm\/server\//;

let fleet: HandlerFleet | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await fleet?.close();
  fleet = undefined;
});

function closeServer(server: Server): Promise<"closed"> {
  return new Promise((resolve) => server.close(() => resolve("closed")));
}

/**
 * Past this, a wait is a hang rather than a slow machine: generous, and still below the test's
 * timeout, so a hang fails with its own message. A passing run is quick.
 */
const HANG_MS = 20_000;
const SETTLE_WAIT = { timeout: HANG_MS, interval: 20 } as const;

function within<T>(ms: number, promise: Promise<T>): Promise<T | "timed out"> {
  return Promise.race([
    promise,
    new Promise<"timed out">((resolve) => setTimeout(() => resolve("timed out"), ms).unref()),
  ]);
}

describe("close()", () => {
  it("ends open streams, and leaves no timer or socket once the HTTP server closes", async () => {
    const baseline = activeResourceCounts();
    const tracker = new ResourceTracker();
    tracker.start();
    try {
      const closeManager = vi.spyOn(SessionManager.prototype, "close");
      const closeStore = vi.spyOn(MemorySessionStore.prototype, "close");
      // No `sessions`: the handler makes its own manager and memory store, and owns them.
      const mcp = createMcpSessionHandler({
        createServer: () => buildTestServer(),
        logger: silentSendLog,
      });
      const http = await listen((req, res) => void mcp(req, res));
      const session = await initializeRaw(http.url);
      const getStream = await fetch(http.url, {
        headers: { ...session.headers, accept: "text/event-stream" },
      });
      expect(getStream.status).toBe(200);
      // A call that never returns on its own: its POST stream stays open until close().
      const pendingCall = await postRequest(http.url, session, "tools/call", {
        name: "rendezvous",
        arguments: { count: 2 },
      });
      expect(pendingCall.status).toBe(200);

      // The check can fail: right now it sees the handler's timers and the open sockets.
      expect(tracker.live(FROM_HANDLER)).toContain("Timeout");
      expect(resourcesBeyond(baseline)).toHaveProperty("TCPSocketWrap");

      expect(await within(HANG_MS, mcp.close())).toBeUndefined();
      expect(closeManager).toHaveBeenCalledTimes(1);
      expect(closeStore).toHaveBeenCalledTimes(1);
      // Both streams ended; nothing is left to hold the HTTP server open.
      expect(await within(HANG_MS, getStream.text())).toBe("");
      const unanswered = await within(HANG_MS, pendingCall.text());
      expect(unanswered).not.toBe("timed out");
      expect(unanswered).not.toContain('"result"');
      expect(await within(HANG_MS, closeServer(http.server))).toBe("closed");

      await expect.poll(() => tracker.live(FROM_HANDLER), SETTLE_WAIT).toEqual([]);
      await expect.poll(() => resourcesBeyond(baseline), SETTLE_WAIT).toEqual({});
    } finally {
      tracker.stop();
    }
  });

  it("leaves the manager, store and relay it was given open, and answers later requests with 503", async () => {
    const store = new MemorySessionStore();
    const sessions = new SessionManager({ store, logger: silentSendLog });
    const mcp = createMcpSessionHandler({
      sessions,
      relay: store.relay,
      createServer: () => buildTestServer(),
      logger: silentSendLog,
    });
    const http = await listen((req, res) => void mcp(req, res));
    try {
      const session = await initializeRaw(http.url);
      const closing = mcp.close();
      expect(mcp.close()).toBe(closing); // idempotent: one close, shared
      await closing;
      expect(await sessions.get(session.id)).toMatchObject({ id: session.id });
      const received: unknown[] = [];
      const to = store.relay.join({
        message: (_id, message) => void received.push(message),
        event() {},
      });
      const from = store.relay.join({ message() {}, event() {} });
      await Promise.all([to.ready, from.ready]);
      expect(await from.send(to.id, session.id, { after: "close" })).toBe(true);
      expect(received).toEqual([{ after: "close" }]);
      await Promise.all([to.leave(), from.leave()]);
      expect(await errorOf(await postRequest(http.url, session, "tools/list"))).toEqual({
        status: 503,
        code: -32000,
        id: null,
      });
    } finally {
      await http.close();
      await sessions.close();
      await store.close();
    }
  });

  it("finishes when a request was already past the store as it closed", async () => {
    const store = new InstrumentedStore();
    fleet = await startHandlerFleet({ store, size: 1 });
    const { a } = fleet;
    const session = await initializeRaw(a.url);
    let release!: () => void;
    store.holdTouches = new Promise<void>((resolve) => {
      release = resolve;
    });
    store.resetCalls();
    const getStream = fetch(a.url, {
      headers: { ...session.headers, accept: "text/event-stream" },
    });
    await expect.poll(() => store.calls.touch, SETTLE_WAIT).toBe(1);

    const closing = a.handler.close();
    release();
    store.holdTouches = undefined;
    // Had the request opened a transport after close() swept them, its stream would keep
    // close() waiting forever.
    expect(await within(HANG_MS, closing)).toBeUndefined();
    expect(await errorOf(await getStream)).toEqual({ status: 503, code: -32000, id: null });
    expect(a.created).toEqual([session.id]);
  });
});
