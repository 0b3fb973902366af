import { SessionManager, type SessionRelay, silentSendLog } from "@mcp-sessions/session-core";
import { MemorySessionStore } from "@mcp-sessions/session-memory";
import { describeSessionStore } from "@mcp-sessions/session-testing";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, expect, it } from "vitest";
import { createMcpSessionHandler } from "../src/index.js";
import { connectClient, routedFetch } from "./support/handler-fleet.js";
import { listen } from "./support/http.js";
import { MapSessionStore } from "./support/map-session-store.js";
import { buildTestServer } from "./support/test-server.js";

// A store that keeps sessions and nothing else passes the store contract, and serves MCP on one
// instance: the handler relays in process when the store is not shared.

describeSessionStore("a plain Map store", () => new MapSessionStore());

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it("serves MCP through session-mcp with no relay of its own, GET-stream notifications included", async () => {
  const store = new MapSessionStore();
  cleanups.push(() => store.close());
  const sessions = new SessionManager({ store, logger: silentSendLog });
  cleanups.push(() => sessions.close());
  const handler = createMcpSessionHandler({
    sessions,
    createServer: () => buildTestServer(),
    logger: silentSendLog,
  });
  cleanups.push(() => handler.close());
  const http = await listen(handler);
  cleanups.push(() => http.close());

  let listChanged = 0;
  const fetch = routedFetch(() => http.port, { standaloneStream: true });
  const { client } = await connectClient(http.url, fetch, {
    prepare: (client) =>
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        listChanged++;
      }),
  });
  cleanups.push(() => client.close());
  await expect
    .poll(() => fetch.sent.some(({ method, status }) => method === "GET" && status === 200))
    .toBe(true);
  const sum = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
  expect(sum.content).toEqual([{ type: "text", text: "5" }]);
  // Sent outside any request, so it reaches the GET stream through the in-process relay.
  await client.callTool({ name: "announce", arguments: {} });
  await expect.poll(() => listChanged).toBe(1);
  expect(await sessions.getActiveSessionCount()).toBe(1);
});

it("refuses a store shared between processes with no shared relay", () => {
  const store = Object.assign(new MapSessionStore(), { shared: true });
  cleanups.push(() => store.close());
  const sessions = new SessionManager({ store, enabled: false, logger: silentSendLog });
  cleanups.push(() => sessions.close());
  expect(() =>
    createMcpSessionHandler({ sessions, createServer: () => buildTestServer() }),
  ).toThrow(
    "The store of `sessions` is shared with other processes, so the fleet needs a shared relay to route replies and stream events between instances; pass `relay: store.relay` (RedisSessionStore), or another shared SessionRelay",
  );
});

it("refuses an in-process relay next to a shared store, and a relay that is not one", () => {
  const store = Object.assign(new MapSessionStore(), { shared: true });
  cleanups.push(() => store.close());
  const sessions = new SessionManager({ store, enabled: false, logger: silentSendLog });
  cleanups.push(() => sessions.close());
  const inProcess = new MemorySessionStore().relay;
  const createServer = () => buildTestServer();
  expect(() => createMcpSessionHandler({ sessions, relay: inProcess, createServer })).toThrow(
    "`relay` is in-process: pass `relay: store.relay` (RedisSessionStore), or another shared SessionRelay",
  );
  expect(() =>
    createMcpSessionHandler({ sessions, relay: {} as SessionRelay, createServer }),
  ).toThrow(
    "Expected `relay` to be a SessionRelay, such as `store.relay`, got `[object Object]` (object)",
  );
});
