/** A JSON value as `JSON.parse` returns it. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Caller-supplied data kept with a session: a plain JSON object. */
export type SessionMetadata = { [key: string]: JsonValue };

/**
 * One session as a store keeps it. Times are ms since the epoch.
 * `expiresAt = min(lastAccessedAt + ttl, createdAt + maxLifetime)`; at or after it the session is gone.
 */
export interface SessionRecord {
  readonly id: string;
  readonly createdAt: number;
  readonly lastAccessedAt: number;
  readonly expiresAt: number;
  /** Who made the session, from the server's authentication. Never from the client. */
  readonly owner?: string;
  readonly metadata?: SessionMetadata;
}

/** Why a session ended: its deadline passed, or somebody removed it. */
export type EndReason = "expired" | "destroyed";
