import { setTimeout as delay } from "node:timers/promises";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { CreateMessageResultSchema, ElicitResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

export const TEST_SERVER_INFO = Object.freeze({ name: "session-mcp-test", version: "1.2.3" });

/** Callers of the `rendezvous` tool wait here until `count` of them have arrived. */
export class Rendezvous {
  #waiting: Array<() => void> = [];

  arrive(count: number): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      if (this.#waiting.length >= count) {
        for (const release of this.#waiting.splice(0)) release();
      }
    });
  }
}

/** What the tools report about themselves, for tests to assert on. */
export interface ToolHooks {
  /** `wait` started; it runs until its request is cancelled. */
  waitStarted?(): void;
  /** `wait`'s AbortSignal fired. */
  waitAborted?(): void;
  /** A request the server sent to the client failed instead of being answered. */
  clientRequestFailed?(message: string): void;
}

/**
 * A fresh McpServer with one of each kind of feature the tests exercise:
 * - tool `add`: the sum of two numbers;
 * - tool `countdown`: one `notifications/progress` per step, then a result;
 * - tool `whoami`: the client capabilities and version this server saw in `initialize`;
 * - tool `rendezvous`: returns once `count` calls are in progress at the same time;
 * - tool `announce`: then sends `notifications/tools/list_changed` on the standalone GET stream;
 * - tool `confirm`: asks the client through `elicitation/create` and returns its answer;
 * - tool `sample`: asks the client through `sampling/createMessage` and returns its text;
 * - tool `wait`: runs until the client cancels it;
 * - tool `ticker`: `count` progress notifications, `intervalMs` apart, then a result;
 * - resource `info://server`; prompt `greet`.
 */
export function buildTestServer(rendezvous = new Rendezvous(), hooks: ToolHooks = {}): McpServer {
  const server = new McpServer(TEST_SERVER_INFO);
  server.registerTool(
    "add",
    { description: "Adds two numbers", inputSchema: { a: z.number(), b: z.number() } },
    async ({ a, b }) => ({ content: [{ type: "text", text: String(a + b) }] }),
  );
  server.registerTool(
    "countdown",
    { description: "Counts down with progress", inputSchema: { from: z.number().int().min(1) } },
    async ({ from }, extra) => {
      const progressToken = extra._meta?.progressToken;
      for (let step = 1; step <= from; step++) {
        // Yields to the event loop, so each notification goes out on its own, as a real
        // long-running tool's would, and concurrent calls interleave; no time passes.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: "notifications/progress",
            params: { progressToken, progress: step, total: from },
          });
        }
      }
      return { content: [{ type: "text", text: "liftoff" }] };
    },
  );
  server.registerTool("whoami", { description: "What this server knows of its client" }, () => ({
    content: [
      {
        type: "text",
        text: JSON.stringify({
          capabilities: server.server.getClientCapabilities() ?? null,
          clientVersion: server.server.getClientVersion() ?? null,
        }),
      },
    ],
  }));
  server.registerTool(
    "rendezvous",
    { description: "Waits for `count` concurrent calls", inputSchema: { count: z.number() } },
    async ({ count }) => {
      await rendezvous.arrive(count);
      return { content: [{ type: "text", text: "met" }] };
    },
  );
  server.registerTool(
    "announce",
    { description: "Sends tools/list_changed outside any request: on the GET stream" },
    () => {
      // Not awaited and not related to this request, so it goes to the standalone stream.
      setImmediate(() => void server.sendToolListChanged());
      return { content: [{ type: "text", text: "announced" }] };
    },
  );
  server.registerTool(
    "confirm",
    {
      description: "Asks the client to confirm",
      inputSchema: { question: z.string(), timeoutMs: z.number().int().min(1).optional() },
    },
    async ({ question, timeoutMs }, extra) => {
      try {
        const answer = await extra.sendRequest(
          {
            method: "elicitation/create",
            params: {
              mode: "form",
              message: question,
              requestedSchema: {
                type: "object",
                properties: { confirmed: { type: "boolean" } },
                required: ["confirmed"],
              },
            },
          },
          ElicitResultSchema,
          timeoutMs === undefined ? {} : { timeout: timeoutMs },
        );
        return { content: [{ type: "text", text: JSON.stringify(answer) }] };
      } catch (error) {
        hooks.clientRequestFailed?.(String((error as Error).message));
        throw error;
      }
    },
  );
  server.registerTool(
    "sample",
    { description: "Asks the client's model", inputSchema: { prompt: z.string() } },
    async ({ prompt }, extra) => {
      const result = await extra.sendRequest(
        {
          method: "sampling/createMessage",
          params: {
            messages: [{ role: "user", content: { type: "text", text: prompt } }],
            maxTokens: 50,
          },
        },
        CreateMessageResultSchema,
      );
      const text = result.content.type === "text" ? result.content.text : "";
      return { content: [{ type: "text", text }] };
    },
  );
  server.registerTool("wait", { description: "Runs until cancelled" }, async (extra) => {
    hooks.waitStarted?.();
    await new Promise<void>((resolve) => {
      extra.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    hooks.waitAborted?.();
    return { content: [{ type: "text", text: "cancelled" }] };
  });
  server.registerTool(
    "ticker",
    {
      description: "Progress notifications, then a result",
      inputSchema: { count: z.number().int().min(1), intervalMs: z.number().int().min(0) },
    },
    async ({ count, intervalMs }, extra) => {
      const progressToken = extra._meta?.progressToken;
      for (let tick = 1; tick <= count; tick++) {
        await delay(intervalMs);
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: "notifications/progress",
            params: { progressToken, progress: tick, total: count },
          });
        }
      }
      return { content: [{ type: "text", text: `ticked ${count}` }] };
    },
  );
  server.registerResource(
    "info",
    "info://server",
    { mimeType: "application/json" },
    async (uri) => ({
      contents: [{ uri: uri.href, mimeType: "application/json", text: '{"ok":true}' }],
    }),
  );
  server.registerPrompt(
    "greet",
    { description: "Greets someone", argsSchema: { name: z.string() } },
    ({ name }) => ({
      messages: [{ role: "user", content: { type: "text", text: `Say hello to ${name}` } }],
    }),
  );
  return server;
}
