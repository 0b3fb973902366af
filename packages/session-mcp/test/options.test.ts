import type { LogEntry } from "@mcp-sessions/session-core";
import { describe, expect, it } from "vitest";
import { createMcpSessionHandler, type McpSessionHandlerOptions } from "../src/index.js";
import { errorOf, initializeRaw, listen, postRequest } from "./support/http.js";
import { ResourceTracker } from "./support/resources.js";
import { buildTestServer } from "./support/test-server.js";

const createServer = () => buildTestServer();

describe("options", () => {
  it.each([
    [null, "Expected options to be an object, got `null` (object)"],
    [{}, "Expected `createServer` to be a function, got `undefined` (undefined)"],
    [
      { createServer, authenticate: "yes" },
      "Expected `authenticate` to be a function, got `yes` (string)",
    ],
    [
      { createServer, transport: null },
      "Expected `transport` to be an object, got `null` (object)",
    ],
    [
      { createServer, logger: 1 },
      "Expected `logger` to be a function or an object with a sendLog() method, got `1` (number)",
    ],
    [
      { createServer, logger: console },
      "Expected `logger` to be a function or an object with a sendLog() method, got an object without a sendLog() method (object)",
    ],
    [{ createServer, sessions: {} }, "Expected `sessions` to be a SessionManager"],
  ])("rejects %j with a TypeError that names the option, leaving no timer", (options, message) => {
    const tracker = new ResourceTracker();
    tracker.start();
    try {
      expect(() => createMcpSessionHandler(options as unknown as McpSessionHandlerOptions)).toThrow(
        new TypeError(message),
      );
      // A default manager made before the throw would have armed its sweep timer.
      expect(tracker.live(/session-core\/(src|dist)\//)).toEqual([]);
    } finally {
      tracker.stop();
    }
  });

  it("the check above sees the timers of a handler on a default manager", async () => {
    const tracker = new ResourceTracker();
    tracker.start();
    try {
      const mcp = createMcpSessionHandler({ createServer });
      // The manager's sweep timer, and the handler's check of its sessions against the store.
      expect(tracker.live(/session-core\/(src|dist)\//)).toEqual(["Timeout", "Timeout"]);
      await mcp.close();
      // Node reports destroyed resources a moment later.
      await expect.poll(() => tracker.live(/session-core\/(src|dist)\//)).toEqual([]);
    } finally {
      tracker.stop();
    }
  });

  it("takes the seed's logger object, for the handler and the manager it makes", async () => {
    const seed = new (class {
      readonly entries: LogEntry[] = [];
      sendLog(entry: LogEntry): void {
        this.entries.push(entry);
      }
    })();
    const authenticate = (request: Request) => {
      const user = request.headers.get("x-user");
      if (user === "crash") throw new Error("auth backend down");
      return user ?? undefined;
    };
    const mcp = createMcpSessionHandler({ createServer, authenticate, logger: seed });
    const http = await listen(mcp);
    try {
      const session = await initializeRaw(http.url, { "x-user": "user-42" });
      const foreign = { ...session, headers: { ...session.headers, "x-user": "user-7" } };
      expect(await errorOf(await postRequest(http.url, foreign, "tools/list"))).toMatchObject({
        status: 404,
        code: -32001,
      });
      const crashed = { ...session, headers: { ...session.headers, "x-user": "crash" } };
      expect((await postRequest(http.url, crashed, "tools/list")).status).toBe(500);
    } finally {
      await http.close();
      await mcp.close();
    }
    expect(seed.entries.map(({ level, logger }) => ({ level, logger }))).toEqual([
      { level: "warning", logger: "session-core/manager" },
      { level: "error", logger: "session-mcp/handler" },
    ]);
  });
});
