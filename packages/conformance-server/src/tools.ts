import { setTimeout as delay } from "node:timers/promises";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import {
  type CallToolResult,
  CreateMessageResultSchema,
  type ElicitRequestFormParams,
  ElicitResultSchema,
  type LoggingLevel,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { parseArguments } from "./arguments.js";
import { PNG_1X1_BASE64, WAV_SILENCE_BASE64 } from "./media.js";

/**
 * How long a tool waits for the client to answer its sampling or elicitation request, in ms.
 * Far below the client's own 60 s: a reply that never reaches this instance (in a fleet, it may
 * be POSTed to another one) fails the call soon, and as an error rather than a result.
 */
export const CLIENT_REQUEST_TIMEOUT_MS = 10_000;

/** Pause between two steps of the logging and progress tools, in ms, as the scenarios ask. */
const STEP_MS = 50;

/** Everything a tool gets for one call. */
export interface ToolCall {
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly extra: RequestHandlerExtra<ServerRequest, ServerNotification>;
  /** Sends `notifications/message` on this call's own stream, unless below the session's level. */
  log(level: LoggingLevel, message: string): Promise<void>;
}

export interface FixtureTool {
  /** What `tools/list` answers for it. */
  readonly definition: Tool;
  /**
   * Runs one call. A throw becomes a JSON-RPC error, so a broken round trip fails the scenario;
   * only `test_error_handling` answers with an `isError` result.
   */
  run(call: ToolCall): Promise<CallToolResult>;
}

const NO_ARGUMENTS = { type: "object", properties: {} } as const satisfies Tool["inputSchema"];

/** The tools the server scenarios of `@modelcontextprotocol/conformance` call, by name. */
export const FIXTURE_TOOLS: readonly FixtureTool[] = [
  {
    definition: {
      name: "test_simple_text",
      description: "Returns one text content item.",
      inputSchema: NO_ARGUMENTS,
    },
    run: async () => text("This is a simple text response for testing."),
  },
  {
    definition: {
      name: "test_image_content",
      description: "Returns one PNG image content item.",
      inputSchema: NO_ARGUMENTS,
    },
    run: async () => ({
      content: [{ type: "image", data: PNG_1X1_BASE64, mimeType: "image/png" }],
    }),
  },
  {
    definition: {
      name: "test_audio_content",
      description: "Returns one WAV audio content item.",
      inputSchema: NO_ARGUMENTS,
    },
    run: async () => ({
      content: [{ type: "audio", data: WAV_SILENCE_BASE64, mimeType: "audio/wav" }],
    }),
  },
  {
    definition: {
      name: "test_embedded_resource",
      description: "Returns one embedded text resource.",
      inputSchema: NO_ARGUMENTS,
    },
    run: async () => ({
      content: [
        {
          type: "resource",
          resource: {
            uri: "test://embedded-resource",
            mimeType: "text/plain",
            text: "This is an embedded resource content.",
          },
        },
      ],
    }),
  },
  {
    definition: {
      name: "test_multiple_content_types",
      description: "Returns text, an image and an embedded resource in one result.",
      inputSchema: NO_ARGUMENTS,
    },
    run: async () => ({
      content: [
        { type: "text", text: "Multiple content types test:" },
        { type: "image", data: PNG_1X1_BASE64, mimeType: "image/png" },
        {
          type: "resource",
          resource: {
            uri: "test://mixed-content-resource",
            mimeType: "application/json",
            text: JSON.stringify({ test: "data", value: 123 }),
          },
        },
      ],
    }),
  },
  {
    definition: {
      name: "test_tool_with_logging",
      description: `Sends three info log messages while it runs, ${STEP_MS} ms apart.`,
      inputSchema: NO_ARGUMENTS,
    },
    run: async ({ extra, log }) => {
      await log("info", "Tool execution started");
      await delay(STEP_MS, undefined, { signal: extra.signal });
      await log("info", "Tool processing data");
      await delay(STEP_MS, undefined, { signal: extra.signal });
      await log("info", "Tool execution completed");
      return text("Tool with logging executed successfully.");
    },
  },
  {
    definition: {
      name: "test_tool_with_progress",
      description: `Reports progress 0, 50 and 100 of 100, ${STEP_MS} ms apart, when the request carries a progress token.`,
      inputSchema: NO_ARGUMENTS,
    },
    run: async ({ extra }) => {
      const progressToken = extra._meta?.progressToken;
      for (const [step, progress] of [0, 50, 100].entries()) {
        if (step > 0) await delay(STEP_MS, undefined, { signal: extra.signal });
        if (progressToken === undefined) continue;
        await extra.sendNotification({
          method: "notifications/progress",
          params: { progressToken, progress, total: 100, message: `${progress}% done` },
        });
      }
      return text("Tool with progress executed successfully.");
    },
  },
  {
    definition: {
      name: "test_error_handling",
      description: "Always fails, reporting the failure as a tool result with isError.",
      inputSchema: NO_ARGUMENTS,
    },
    run: async () => ({
      isError: true,
      content: [{ type: "text", text: "This tool intentionally returns an error for testing" }],
    }),
  },
  {
    definition: {
      name: "test_reconnection",
      description:
        "Closes its own SSE response stream before answering, so the client must resume it with Last-Event-ID (SEP-1699).",
      inputSchema: NO_ARGUMENTS,
    },
    run: async ({ extra }) => {
      // The SDK offers closeSSEStream only with an event store and a 2025-11-25 client; without
      // it the result simply comes on the stream that is still open.
      if (extra.closeSSEStream !== undefined) {
        extra.closeSSEStream();
        // Answer only once the stream is gone: the result must then come from the event store.
        await delay(STEP_MS, undefined, { signal: extra.signal });
      }
      return text("Reconnection test completed.");
    },
  },
  {
    definition: {
      name: "test_sampling",
      description: "Asks the client's model to answer `prompt` through sampling/createMessage.",
      inputSchema: {
        type: "object",
        properties: { prompt: { type: "string", description: "The prompt to send to the LLM" } },
        required: ["prompt"],
      },
    },
    run: async (call) => {
      const { prompt } = parseArguments(SamplingArguments, call.arguments);
      const answer = await call.extra.sendRequest(
        {
          method: "sampling/createMessage",
          params: {
            messages: [{ role: "user", content: { type: "text", text: prompt } }],
            maxTokens: 100,
          },
        },
        CreateMessageResultSchema,
        { timeout: CLIENT_REQUEST_TIMEOUT_MS },
      );
      const reply = answer.content.type === "text" ? answer.content.text : answer.content.type;
      return text(`LLM response: ${reply}`);
    },
  },
  {
    definition: {
      name: "test_elicitation",
      description: "Asks the user for a username and an email address through elicitation.",
      inputSchema: {
        type: "object",
        properties: {
          message: { type: "string", description: "The message to show the user" },
        },
        required: ["message"],
      },
    },
    run: async (call) => {
      const { message } = parseArguments(ElicitationArguments, call.arguments);
      return elicit(call, {
        message,
        requestedSchema: {
          type: "object",
          properties: {
            username: { type: "string", description: "User's response" },
            email: { type: "string", description: "User's email address" },
          },
          required: ["username", "email"],
        },
      });
    },
  },
  {
    definition: {
      name: "test_elicitation_sep1034_defaults",
      description:
        "Elicits a form whose string, integer, number, enum and boolean fields have defaults (SEP-1034).",
      inputSchema: NO_ARGUMENTS,
    },
    run: async (call) =>
      elicit(call, {
        message: "Please review the form; every field has a default.",
        requestedSchema: {
          type: "object",
          properties: {
            name: { type: "string", description: "User name", default: "John Doe" },
            age: { type: "integer", description: "User age", default: 30 },
            score: { type: "number", description: "User score", default: 95.5 },
            status: {
              type: "string",
              description: "User status",
              enum: ["active", "inactive", "pending"],
              default: "active",
            },
            verified: { type: "boolean", description: "Verification status", default: true },
          },
        },
      }),
  },
  {
    definition: {
      name: "test_elicitation_sep1330_enums",
      description:
        "Elicits a form with each enum variant: untitled and titled single-select, legacy enumNames, untitled and titled multi-select (SEP-1330).",
      inputSchema: NO_ARGUMENTS,
    },
    run: async (call) =>
      elicit(call, {
        message: "Please pick from each list.",
        requestedSchema: {
          type: "object",
          properties: {
            untitledSingle: { type: "string", enum: ["option1", "option2", "option3"] },
            titledSingle: {
              type: "string",
              oneOf: [
                { const: "value1", title: "First Option" },
                { const: "value2", title: "Second Option" },
                { const: "value3", title: "Third Option" },
              ],
            },
            legacyEnum: {
              type: "string",
              enum: ["opt1", "opt2", "opt3"],
              enumNames: ["Option One", "Option Two", "Option Three"],
            },
            untitledMulti: {
              type: "array",
              items: { type: "string", enum: ["option1", "option2", "option3"] },
            },
            titledMulti: {
              type: "array",
              items: {
                anyOf: [
                  { const: "value1", title: "First Choice" },
                  { const: "value2", title: "Second Choice" },
                  { const: "value3", title: "Third Choice" },
                ],
              },
            },
          },
        },
      }),
  },
  {
    definition: {
      name: "json_schema_2020_12_tool",
      description:
        "Has an input schema with JSON Schema 2020-12 keywords: $schema, $defs, $ref (SEP-1613).",
      // Written out rather than derived from zod, so `tools/list` carries these keywords as they are.
      inputSchema: {
        $schema: "https://json-schema.org/draft/2020-12/schema",
        type: "object",
        $defs: {
          address: {
            type: "object",
            properties: { street: { type: "string" }, city: { type: "string" } },
          },
        },
        properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" } },
        additionalProperties: false,
      },
    },
    run: async (call) => {
      const args = parseArguments(JsonSchemaToolArguments, call.arguments);
      return text(`Called with ${JSON.stringify(args)}`);
    },
  },
];

const SamplingArguments = z.object({ prompt: z.string() });
const ElicitationArguments = z.object({ message: z.string() });
const JsonSchemaToolArguments = z.strictObject({
  name: z.string().optional(),
  address: z.object({ street: z.string().optional(), city: z.string().optional() }).optional(),
});

/** Sends `elicitation/create` as part of the call and reports the answer as text. */
async function elicit(call: ToolCall, params: ElicitRequestFormParams): Promise<CallToolResult> {
  const answer = await call.extra.sendRequest(
    { method: "elicitation/create", params },
    ElicitResultSchema,
    { timeout: CLIENT_REQUEST_TIMEOUT_MS },
  );
  return text(
    `User response: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`,
  );
}

function text(value: string): CallToolResult {
  return { content: [{ type: "text", text: value }] };
}
