export { type Clock, MAX_TIMER_DELAY_MS, SYSTEM_CLOCK, unrefTimeout } from "./clock.js";
export type { SessionErrorCode } from "./errors.js";
export {
  InvalidMetadataError,
  InvalidSessionIdError,
  isSessionError,
  SessionError,
  SessionExistsError,
  SessionLimitReachedError,
  StoreClosedError,
  StoreConfigurationError,
  StoreUnavailableError,
} from "./errors.js";
export { runGuarded } from "./guard.js";
export type { LogEntry, Logger, LogLevel, SendLog } from "./logger.js";
export { defaultSendLog, describeError, log, silentSendLog, toSendLog } from "./logger.js";
export type { ValidatedMetadata } from "./metadata.js";
export { parseMetadata, validateMetadata } from "./metadata.js";
export type { ResolvedSessionManagerOptions, SessionManagerOptions } from "./options.js";
export { DEFAULT_SESSION_MANAGER_OPTIONS, resolveOptions } from "./options.js";
export { ownerMatches } from "./owner.js";
export type { EndReason, JsonValue, SessionMetadata, SessionRecord } from "./session.js";
export { assertValidSessionId, generateSessionId, isValidSessionId } from "./session-id.js";
export type {
  ExpirationHandler,
  OwnerOptions,
  SessionManagerEventName,
  SessionManagerEvents,
} from "./session-manager.js";
export { SessionManager } from "./session-manager.js";
export type {
  HoldOptions,
  PublishOptions,
  RelayListener,
  RelayMember,
  RelayMessage,
  SessionRelay,
  StreamEvent,
} from "./session-relay.js";
export type {
  CreateOptions,
  CreateOutcome,
  DeleteOptions,
  LookupOptions,
  SessionLookup,
  SessionStore,
  SessionStoreListener,
  SweepResult,
  TouchOptions,
} from "./session-store.js";
export { TypedEvents } from "./typed-events.js";
