import type { SessionRecord } from "@mcp-sessions/session-core";
import type { MemoryRelay } from "@mcp-sessions/session-memory";
import type { Fleet } from "./fleet.js";
import type { LocalSessions } from "./local-sessions.js";
import type { ResolvedMcpSessionHandlerOptions } from "./options.js";

/** What every request of one handler works with. */
export interface HandlerContext {
  readonly options: ResolvedMcpSessionHandlerOptions;
  readonly local: LocalSessions;
  readonly fleet: Fleet;
  /** The handler's own relay, for a store no other process sees. */
  readonly inProcessRelay: MemoryRelay | undefined;
  /** True once `close()` was called: every request then gets 503. */
  readonly isClosed: () => boolean;
}

/** Releases what this instance holds for a session that ended: its transport and streams. */
export async function releaseSession(context: HandlerContext, id: string): Promise<void> {
  context.inProcessRelay?.forget(id);
  context.fleet.closeSession(id);
  await context.local.close(id);
}

/**
 * Ends a session whose client never got its id. The store may be down right now (that may be why
 * the initialize failed), so removal is the manager's to retry; this request does not wait.
 */
export async function discardSession(
  context: HandlerContext,
  session: SessionRecord,
): Promise<void> {
  await releaseSession(context, session.id);
  void context.options.sessions.discard(session);
}

/** Ends a session everywhere: here at once, on other instances when they hear `ended`. */
export async function endSession(context: HandlerContext, id: string): Promise<void> {
  await releaseSession(context, id);
  await context.options.sessions.cleanup(id);
}
