export type { SessionRelayFactory, SessionRelayPair } from "./describe-session-relay.js";
export { describeSessionRelay } from "./describe-session-relay.js";
export type { SessionStoreFactory } from "./describe-session-store.js";
export { describeSessionStore } from "./describe-session-store.js";
