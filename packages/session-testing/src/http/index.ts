export type { ProxiedRequest, RoundRobinProxy, Upstream } from "./round-robin-proxy.js";
export { startRoundRobinProxy } from "./round-robin-proxy.js";
