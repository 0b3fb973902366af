export type { MemorySessionStoreOptions } from "./memory-session-store.js";
export { MemorySessionStore } from "./memory-session-store.js";
