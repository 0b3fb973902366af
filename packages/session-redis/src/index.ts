export type { KeyspaceEventsMode, RedisSessionStoreOptions } from "./options.js";
export { DEFAULT_REDIS_SESSION_STORE_OPTIONS } from "./options.js";
export { RedisSessionStore } from "./redis-session-store.js";
