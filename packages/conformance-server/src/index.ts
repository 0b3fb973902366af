export type { ConformanceServerConfig } from "./config.js";
export { DEFAULT_CONFORMANCE_SERVER_CONFIG, loadConfig } from "./config.js";
export type { ConformanceServer } from "./conformance-server.js";
export { startConformanceServer } from "./conformance-server.js";
export { buildFixtureServer, SERVER_INFO } from "./fixture-server.js";
