export type { McpServerLike, ServerFactory, TransportOptions } from "./local-sessions.js";
export type { McpFetchOptions, McpSessionHandler } from "./mcp-session-handler.js";
export { createMcpSessionHandler } from "./mcp-session-handler.js";
export type { McpSessionHandlerOptions } from "./options.js";
