export type { ExampleServer } from "./app.js";
export { startExampleServer } from "./app.js";
export type { ExampleServerConfig } from "./config.js";
export { ConfigError, DEFAULT_EXAMPLE_SERVER_CONFIG, loadConfig } from "./config.js";
export type { LogLevel } from "./logger.js";
export { createJsonLineLogger, LOG_LEVELS } from "./logger.js";
export { buildMcpServer, SERVER_INFO } from "./mcp-server.js";
export type { HealthReport, RoutesOptions, StoreKind } from "./routes.js";
export { createRequestListener, healthReport, LOOPBACK_HOSTNAMES } from "./routes.js";
