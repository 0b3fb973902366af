export { type Clock, SYSTEM_CLOCK } from "./clock.js";
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
export type { LogEntry, Logger, LogLevel, SendLog } from "./logger.js";
export { defaultSendLog, silentSendLog } from "./logger.js";
export type { SessionManagerOptions } from "./options.js";
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
