/**
 * Stable error codes. They are API: never renamed, removed only in a major release.
 * Switch on `code`, not on the class: `instanceof` fails when two copies of core are installed.
 */
export type SessionErrorCode =
  | "INVALID_SESSION_ID"
  | "SESSION_EXISTS"
  | "SESSION_LIMIT_REACHED"
  | "INVALID_METADATA"
  | "STORE_UNAVAILABLE"
  | "STORE_MISCONFIGURED"
  | "STORE_CLOSED";

/** Base class of every error this project throws on purpose. */
export class SessionError extends Error {
  readonly code: SessionErrorCode;

  constructor(code: SessionErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A session id is not 1 to 256 visible ASCII characters (0x21–0x7E). */
export class InvalidSessionIdError extends SessionError {
  constructor(message: string) {
    super("INVALID_SESSION_ID", message);
  }
}

/** `register` was given an id that already exists. */
export class SessionExistsError extends SessionError {
  constructor() {
    super("SESSION_EXISTS", "A session with this id already exists; register a fresh id");
  }
}

/** `maxSessions` live sessions exist, so no more can be created. */
export class SessionLimitReachedError extends SessionError {
  readonly maxSessions: number;

  constructor(maxSessions: number) {
    super(
      "SESSION_LIMIT_REACHED",
      `Session limit of ${maxSessions} reached; wait for sessions to end or raise \`maxSessions\``,
    );
    this.maxSessions = maxSessions;
  }
}

/** Metadata is not a plain JSON object within `maxMetadataBytes`. The message never quotes values. */
export class InvalidMetadataError extends SessionError {
  constructor(message: string, options?: ErrorOptions) {
    super("INVALID_METADATA", message, options);
  }
}

/** The store's backend failed or timed out. The session may exist: this is never a "not found". */
export class StoreUnavailableError extends SessionError {
  constructor(message: string, options?: ErrorOptions) {
    super("STORE_UNAVAILABLE", message, options);
  }
}

/**
 * The store's backend is reachable but set up so the store cannot keep its guarantees, such as
 * Redis without keyspace notifications. The message names the setting and how to fix it.
 */
export class StoreConfigurationError extends SessionError {
  constructor(message: string, options?: ErrorOptions) {
    super("STORE_MISCONFIGURED", message, options);
  }
}

/** The manager or store was used after `close()`. */
export class StoreClosedError extends SessionError {
  constructor(what: string) {
    super("STORE_CLOSED", `${what} is closed; create a new one`);
  }
}

/** True for any error of this project, even from another installed copy of session-core. */
export function isSessionError(error: unknown): error is SessionError {
  if (error instanceof SessionError) return true;
  const code: unknown = error instanceof Error ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" && SESSION_ERROR_CODES.has(code);
}

const SESSION_ERROR_CODES: ReadonlySet<string> = new Set<SessionErrorCode>([
  "INVALID_SESSION_ID",
  "SESSION_EXISTS",
  "SESSION_LIMIT_REACHED",
  "INVALID_METADATA",
  "STORE_UNAVAILABLE",
  "STORE_MISCONFIGURED",
  "STORE_CLOSED",
]);
