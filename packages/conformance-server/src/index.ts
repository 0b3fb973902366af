export type { ConformanceServerConfig } from "./config.js";
export { ConfigError, DEFAULT_CONFORMANCE_SERVER_CONFIG, loadConfig } from "./config.js";
export type { ConformanceServer, StoreKind } from "./conformance-server.js";
export { startConformanceServer } from "./conformance-server.js";
export { buildFixtureServer, SERVER_INFO } from "./fixture-server.js";
export type { RoutesOptions } from "./routes.js";
export { createRequestListener, fromLoopback, LOOPBACK_HOSTNAMES } from "./routes.js";
