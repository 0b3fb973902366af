export type { SessionStoreFactory } from "./describe-session-store.js";
export { describeSessionStore } from "./describe-session-store.js";
