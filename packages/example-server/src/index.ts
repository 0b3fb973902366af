export { addressKey } from "./address-key.js";
export type { ExampleServer } from "./app.js";
export { startExampleServer } from "./app.js";
export type { ExampleServerConfig } from "./config.js";
export { DEFAULT_EXAMPLE_SERVER_CONFIG, loadConfig } from "./config.js";
export type { Env } from "./env-variables.js";
export {
  ConfigError,
  readHost,
  readInteger,
  readRedisPrefix,
  readRedisUrl,
} from "./env-variables.js";
export { allowedHostnamesFor, LOOPBACK_HOSTNAMES, refusedHeader } from "./host-guard.js";
export type { JsonLineLoggerOptions, LogLevel } from "./logger.js";
export { createJsonLineLogger, LOG_LEVELS } from "./logger.js";
export type { McpServerOptions } from "./mcp-server.js";
export { buildMcpServer, SERVER_INFO } from "./mcp-server.js";
export type { SessionStoreConfig, StoreKind } from "./open-session-store.js";
export { openSessionStore } from "./open-session-store.js";
export type { HealthReport, RoutesOptions } from "./routes.js";
export { createRequestListener, healthReport } from "./routes.js";
export type { RunningServer } from "./run-until-signal.js";
export { runUntilSignal, SHUTDOWN_TIMEOUT_MS } from "./run-until-signal.js";
export type { SessionsPerAddressOptions } from "./sessions-per-address.js";
export { SessionsPerAddress } from "./sessions-per-address.js";
export type { HttpServer, HttpServerOptions } from "./start-http-server.js";
export { startHttpServer } from "./start-http-server.js";
