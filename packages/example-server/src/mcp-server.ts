import { setTimeout as delay } from "node:timers/promises";
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";

export const SERVER_INFO = Object.freeze({ name: "example-server", version: "0.0.0" });

/** Pause between two `countdown` steps, in ms. */
const COUNTDOWN_STEP_MS = 100;

/**
 * A fresh MCP server with the example's tools, resources and prompt. The session handler calls
 * it once per session on each instance that serves the session, so it must hold no shared state.
 *
 * - tool `add`: the sum of two numbers
 * - tool `countdown`: counts down, one `notifications/progress` per step
 * - tool `confirm`: asks the user a yes/no question through elicitation
 * - resource `info://server`: name and version, as JSON
 * - resource template `greeting://{name}`: a greeting
 * - prompt `summarize`: asks the model to summarize a text
 */
export function buildMcpServer(): McpServer {
  const server = new McpServer(SERVER_INFO);

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
