export type { MemoryRelayOptions } from "./memory-relay.js";
export { MemoryRelay } from "./memory-relay.js";
export type { MemorySessionStoreOptions } from "./memory-session-store.js";
export { MemorySessionStore } from "./memory-session-store.js";
