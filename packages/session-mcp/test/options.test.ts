import { describe, expect, it } from "vitest";
import { createMcpSessionHandler, type McpSessionHandlerOptions } from "../src/index.js";
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
    [{ createServer, logger: 1 }, "Expected `logger` to be a function, got `1` (number)"],
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

  it("the check above sees the sweep timer of a default manager", async () => {
    const tracker = new ResourceTracker();
    tracker.start();
    try {
      const mcp = createMcpSessionHandler({ createServer });
      expect(tracker.live(/session-core\/(src|dist)\//)).toEqual(["Timeout"]);
      await mcp.close();
      // Node reports destroyed resources a moment later.
      await expect.poll(() => tracker.live(/session-core\/(src|dist)\//)).toEqual([]);
    } finally {
      tracker.stop();
    }
  });
});
