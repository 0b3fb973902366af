import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  type LoggingLevel,
  McpError,
  ReadResourceRequestSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { LOG_LEVELS } from "example-server";
import { completeFixtureArgument, FIXTURE_PROMPTS } from "./prompts.js";
import {
  assertSubscribable,
  FIXTURE_RESOURCE_TEMPLATES,
  FIXTURE_RESOURCES,
  readFixtureResource,
} from "./resources.js";
import { FIXTURE_TOOLS } from "./tools.js";

export const SERVER_INFO = Object.freeze({ name: "conformance-server", version: "0.0.0" });

/** The `logger` of every log message the fixture sends. */
const LOGGER = "conformance-server";

const TOOLS = new Map(FIXTURE_TOOLS.map((tool) => [tool.definition.name, tool]));
const PROMPTS = new Map(FIXTURE_PROMPTS.map((prompt) => [prompt.definition.name, prompt]));

/**
 * A fresh server with every tool, resource, prompt and completion the server scenarios of
 * `@modelcontextprotocol/conformance` use, plus logging. The session handler builds one per
 * session on each instance that serves the session, so it keeps no state beyond the session's
 * log level, which stays on the instance that received `logging/setLevel`.
 *
 * It is the SDK's low-level `Server`, not `McpServer`: the scenarios check exact wire shapes,
 * such as an input schema with JSON Schema 2020-12 keywords that `McpServer` would rebuild from
 * zod, and a tool whose client round trip fails must answer with a JSON-RPC error, where
 * `McpServer` would turn the throw into a result that the scenario counts as a success.
 *
 * @example
 * const mcp = createMcpSessionHandler({ sessions, createServer: buildFixtureServer });
 */
export function buildFixtureServer(): Server {
  const server = new Server(SERVER_INFO, {
    capabilities: { tools: {}, resources: { subscribe: true }, prompts: {}, completions: {} },
  });
  // Declared here rather than in the constructor, where it would install the SDK's own
  // `logging/setLevel` handler, whose level this fixture could not read.
  server.registerCapabilities({ logging: {} });
  let minimumLevel: LoggingLevel | undefined;
  server.setRequestHandler(SetLevelRequestSchema, (request) => {
    minimumLevel = request.params.level;
    return {};
  });

  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: FIXTURE_TOOLS.map((tool) => tool.definition),
  }));
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const { name, arguments: args = {} } = request.params;
    const tool = TOOLS.get(name);
    if (tool === undefined) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool \`${name}\`; see tools/list`);
    }
    return tool.run({
      arguments: args,
      extra,
      log: async (level, message) => {
        if (minimumLevel !== undefined && severity(level) < severity(minimumLevel)) return;
        // Sent as part of the call, so it travels on the call's own response stream.
        await extra.sendNotification({
          method: "notifications/message",
          params: { level, logger: LOGGER, data: message },
        });
      },
    });
  });

  server.setRequestHandler(ListResourcesRequestSchema, () => ({
    resources: [...FIXTURE_RESOURCES],
  }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, () => ({
    resourceTemplates: [...FIXTURE_RESOURCE_TEMPLATES],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, (request) =>
    readFixtureResource(request.params.uri),
  );
  // The fixture's resources never change, so a subscription has no update to deliver: the
  // server checks the URI and acknowledges, and holds nothing another instance would miss.
  server.setRequestHandler(SubscribeRequestSchema, (request) => {
    assertSubscribable(request.params.uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, (request) => {
    assertSubscribable(request.params.uri);
    return {};
  });

  server.setRequestHandler(ListPromptsRequestSchema, () => ({
    prompts: FIXTURE_PROMPTS.map((prompt) => prompt.definition),
  }));
  server.setRequestHandler(GetPromptRequestSchema, (request) => {
    const { name, arguments: args = {} } = request.params;
    const prompt = PROMPTS.get(name);
    if (prompt === undefined) {
      throw new McpError(ErrorCode.InvalidParams, `Unknown prompt \`${name}\`; see prompts/list`);
    }
    return prompt.get(args);
  });
  server.setRequestHandler(CompleteRequestSchema, (request) =>
    completeFixtureArgument(request.params),
  );

  return server;
}

function severity(level: LoggingLevel): number {
  return LOG_LEVELS.indexOf(level);
}
