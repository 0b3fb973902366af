export type { Deferred } from "./deferred.js";
export { deferred } from "./deferred.js";
export type { PollOptions } from "./poll-until.js";
export { pollUntil } from "./poll-until.js";
export type { WaitOptions } from "./within.js";
export { within } from "./within.js";
