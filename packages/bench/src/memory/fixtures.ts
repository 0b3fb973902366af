import { randomUUID } from "node:crypto";
import {
  SessionManager,
  type SessionManagerOptions,
  type SessionMetadata,
} from "@mcp-sessions/session-core";
import { MemorySessionStore } from "@mcp-sessions/session-memory";

/** The manager's default idle timeout (30 minutes), used by the baselines too. */
export const TTL_MS = 1_800_000;

/** What an MCP server typically keeps per session: the initialize params it needs later. */
export const INITIALIZE_JSON =
  '{"protocolVersion":"2025-06-18","clientInfo":{"name":"bench-client","version":"1.0.0"}}';

/** One shared copy, for benchmarks where metadata is passed but not what is measured. */
export const INITIALIZE_METADATA: SessionMetadata = Object.freeze(
  JSON.parse(INITIALIZE_JSON) as SessionMetadata,
);

/**
 * The seed's record: a plain mutable object in a `Map`. Same fields as `SessionRecord`, so both
 * sides hold the same data.
 */
export interface SeedRecord {
  id: string;
  createdAt: number;
  lastAccessedAt: number;
  expiresAt: number;
  metadata?: SessionMetadata;
}

/** A fresh record the way the seed made one. */
export function seedRecord(now: number, metadata?: SessionMetadata): SeedRecord {
  const id = randomUUID();
  return metadata === undefined
    ? { id, createdAt: now, lastAccessedAt: now, expiresAt: now + TTL_MS }
    : { id, createdAt: now, lastAccessedAt: now, expiresAt: now + TTL_MS, metadata };
}

const VISIBLE_ASCII = /^[\x21-\x7E]{1,256}$/;

/**
 * Returns `id` after making V8 flatten it. Node 20's `randomUUID()` returns a rope of ~20
 * concatenated pieces that costs ~420 heap bytes more than the 36 flat characters, and a `Map`
 * keeps it that way. A regex scan flattens it in place; the manager's id check does the same.
 */
export function flattened(id: string): string {
  VISIBLE_ASCII.test(id);
  return id;
}

/** A manager on a fresh memory store; `enabled: false` unless asked, so no sweep timer runs. */
export function memoryManager(options: Omit<SessionManagerOptions, "store"> = {}): SessionManager {
  return new SessionManager({ enabled: false, ...options, store: new MemorySessionStore() });
}
