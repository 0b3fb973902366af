export { MAX_TIMER_DELAY_MS, unrefTimeout } from "./clock.js";
export { runGuarded } from "./guard.js";
export { describeError, log, toSendLog } from "./logger.js";
export type { ValidatedMetadata } from "./metadata.js";
export { parseMetadata, validateMetadata } from "./metadata.js";
export { ownerMatches } from "./owner.js";
