import { setTimeout as delay } from "node:timers/promises";
import { type SendLog, silentSendLog } from "@mcp-sessions/session-core";
import { log, runGuarded, unrefTimeout } from "@mcp-sessions/session-core/store";
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

export const SERVER_INFO = Object.freeze({ name: "example-server", version: "0.0.0" });

const LOGGER = "example-server/tools";

/** Pause between two `countdown` steps, in ms. */
const COUNTDOWN_STEP_MS = 100;
/** `maxTokens` of an `ask_model` call that names none. */
const ASK_MODEL_MAX_TOKENS = 256;
/** `delayMs` of a `notify_later` call that names none. */
const NOTIFY_LATER_DELAY_MS = 1_000;

/** Options of {@link buildMcpServer}. */
export interface McpServerOptions {
  /** Receives what the tools report, such as a `wait_for_cancel` call cancelled. @default silent */
  readonly logger?: SendLog;
}

/**
 * A fresh MCP server with the example's tools, resources and prompt. The session handler calls
 * it once per session on each instance that serves the session, so it must hold no shared state.
 *
 * - tool `add`: the sum of two numbers
 * - tool `countdown`: counts down, one `notifications/progress` per step
 * - tool `confirm`: asks the user a yes/no question through elicitation
 * - tool `ask_model`: asks the client's model through sampling
 * - tool `wait_for_cancel`: runs until the client cancels it, and logs that it was cancelled
 * - tool `notify_later`: returns, then sends a log notification outside any request
 * - resource `info://server`: name and version, as JSON
 * - resource template `greeting://{name}`: a greeting
 * - prompt `summarize`: asks the model to summarize a text
 */
export function buildMcpServer(options: McpServerOptions = {}): McpServer {
  const { logger = silentSendLog } = options;
  // `logging` lets `notify_later` send `notifications/message`.
  const server = new McpServer(SERVER_INFO, { capabilities: { logging: {} } });
  /** `notify_later` timers still to fire; the server's close clears them. */
  const timers = new Set<NodeJS.Timeout>();
  server.server.onclose = () => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  };

  server.registerTool(
    "add",
    {
      title: "Add",
      description: "Adds two numbers.",
      inputSchema: { a: z.number(), b: z.number() },
      outputSchema: { sum: z.number() },
    },
    async ({ a, b }) => ({
      content: [{ type: "text", text: String(a + b) }],
      structuredContent: { sum: a + b },
    }),
  );

  server.registerTool(
    "countdown",
    {
      title: "Countdown",
      description: `Counts down from \`from\` to zero, one step every ${COUNTDOWN_STEP_MS} ms, reporting progress on each step when the request carries a progress token.`,
      inputSchema: { from: z.number().int().min(1).max(10) },
    },
    async ({ from }, extra) => {
      const progressToken = extra._meta?.progressToken;
      for (let step = 1; step <= from; step++) {
        await delay(COUNTDOWN_STEP_MS, undefined, { signal: extra.signal });
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: "notifications/progress",
            params: { progressToken, progress: step, total: from, message: String(from - step) },
          });
        }
      }
      return { content: [{ type: "text", text: `Counted down from ${from}: liftoff!` }] };
    },
  );

  server.registerTool(
    "confirm",
    {
      title: "Confirm",
      description:
        "Asks the user a yes/no question through elicitation and returns the answer: confirmed, not confirmed, declined or cancelled.",
      inputSchema: { question: z.string().min(1).max(500) },
      outputSchema: {
        action: z.enum(["accept", "decline", "cancel"]),
        confirmed: z.boolean().optional(),
      },
    },
    async ({ question }, extra): Promise<CallToolResult> => {
      if (server.server.getClientCapabilities()?.elicitation === undefined) {
        return {
          isError: true,
          content: [
            {
              type: "text",
              text: "This client does not support elicitation; declare the `elicitation` capability to use `confirm`.",
            },
          ],
        };
      }
      const answer = await server.server.elicitInput(
        {
          message: question,
          requestedSchema: {
            type: "object",
            properties: { confirmed: { type: "boolean", title: "Confirm", description: question } },
            required: ["confirmed"],
          },
        },
        // Related to this call, the request travels on its response stream, not the GET stream.
        { relatedRequestId: extra.requestId, signal: extra.signal },
      );
      if (answer.action !== "accept") {
        const text = answer.action === "decline" ? "The user declined." : "The user cancelled.";
        return { content: [{ type: "text", text }], structuredContent: { action: answer.action } };
      }
      const confirmed = answer.content?.confirmed === true;
      return {
        content: [{ type: "text", text: confirmed ? "Confirmed." : "Not confirmed." }],
        structuredContent: { action: "accept", confirmed },
      };
    },
  );

  server.registerTool(
    "ask_model",
    {
      title: "Ask the model",
      description:
        "Asks the client's model one question through sampling and returns its answer, with the model's name.",
      inputSchema: {
        prompt: z.string().min(1).max(10_000),
        maxTokens: z.number().int().min(1).max(4_096).optional(),
      },
      outputSchema: { model: z.string() },
    },
    async ({ prompt, maxTokens = ASK_MODEL_MAX_TOKENS }, extra): Promise<CallToolResult> => {
      if (server.server.getClientCapabilities()?.sampling === undefined) {
        return {
          isError: true,
          content: [
            {
              type: "text",
              text: "This client does not support sampling; declare the `sampling` capability to use `ask_model`.",
            },
          ],
        };
      }
      const answer = await server.server.createMessage(
        { messages: [{ role: "user", content: { type: "text", text: prompt } }], maxTokens },
        // Like `confirm`'s elicitation, the request travels on this call's response stream.
        { relatedRequestId: extra.requestId, signal: extra.signal },
      );
      return { content: [answer.content], structuredContent: { model: answer.model } };
    },
  );

  server.registerTool(
    "wait_for_cancel",
    {
      title: "Wait for cancel",
      description:
        "Runs until the client cancels the call, reporting progress 0 once it waits when the request carries a progress token. A cancelled call has no result; the server logs `Tool cancelled` instead.",
    },
    async (extra) => {
      const progressToken = extra._meta?.progressToken;
      if (progressToken !== undefined) {
        await extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken, progress: 0, message: "Waiting for cancellation" },
        });
      }
      await new Promise<void>((resolve) => {
        if (extra.signal.aborted) resolve();
        else extra.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      // The client sent `notifications/cancelled`, or the session's server closed. Either way
      // nobody reads the result, so the log is where a cancellation shows.
      log(logger, {
        level: "info",
        logger: LOGGER,
        data: { message: "Tool cancelled", tool: "wait_for_cancel" },
      });
      return { content: [{ type: "text", text: "Cancelled." }] };
    },
  );

  server.registerTool(
    "notify_later",
    {
      title: "Notify later",
      description: `Returns at once, then after \`delayMs\` (default ${NOTIFY_LATER_DELAY_MS}) sends \`message\` as a log notification (\`notifications/message\`, level info) outside any request: it arrives on the client's GET stream.`,
      inputSchema: {
        message: z.string().min(1).max(500),
        delayMs: z.number().int().min(0).max(60_000).optional(),
      },
    },
    async ({ message, delayMs = NOTIFY_LATER_DELAY_MS }, extra) => {
      const timer = unrefTimeout(() => {
        timers.delete(timer);
        // Not related to any request: the transport sends it on the standalone GET stream.
        void runGuarded(logger, LOGGER, "notify_later's notification", () =>
          server.server.sendLoggingMessage(
            { level: "info", logger: "notify_later", data: message },
            extra.sessionId,
          ),
        );
      }, delayMs);
      timers.add(timer);
      return { content: [{ type: "text", text: `Will notify in ${delayMs} ms.` }] };
    },
  );

  server.registerResource(
    "server-info",
    "info://server",
    {
      title: "Server info",
      description: "This server's name and version.",
      mimeType: "application/json",
    },
    async (uri) => ({
      contents: [
        { uri: uri.href, mimeType: "application/json", text: JSON.stringify(SERVER_INFO) },
      ],
    }),
  );

  server.registerResource(
    "greeting",
    new ResourceTemplate("greeting://{name}", { list: undefined }),
    { title: "Greeting", description: "A greeting for `name`.", mimeType: "text/plain" },
    async (uri, { name }) => ({
      // Template variables arrive percent-encoded: greeting://Ada%20Lovelace.
      contents: [
        {
          uri: uri.href,
          mimeType: "text/plain",
          text: `Hello, ${decodeURIComponent(String(name))}!`,
        },
      ],
    }),
  );

  server.registerPrompt(
    "summarize",
    {
      title: "Summarize",
      description: "Asks the model to summarize a text in one short paragraph.",
      argsSchema: { text: z.string().min(1) },
    },
    ({ text }) => ({
      messages: [
        {
          role: "user",
          content: {
            type: "text",
            text: `Summarize the following text in one short paragraph:\n\n${text}`,
          },
        },
      ],
    }),
  );

  return server;
}
