import type { Clock, SessionManager, SessionRecord } from "@mcp-sessions/session-core";
import { expect } from "vitest";

/**
 * The real clock plus an offset the test moves. Sessions are made under a long ttl, so no slow
 * setup outlives one, and are then made due when the test wants, in real time: the store sets
 * each key's PEXPIREAT from the deadlines this clock gives.
 */
export class OffsetClock implements Clock {
  #offsetMs = 0;

  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /** Moves this clock `ms` on (back, when negative); it keeps running from there. */
  shift(ms: number): void {
    this.#offsetMs += ms;
  }
}

/**
 * Touches each of `ids` through `sessions`, whose clock is `clock`, so that its deadline falls a
 * little after now by the real clock: Redis then expires the key by itself, and the expired-key
 * event follows. Resolves the sessions as the touch left them.
 *
 * A deadline already past when the touch reaches Redis would make Redis delete the key at once,
 * as a `del` without any `expired` event. So the margin is not a constant: it is ten times what
 * the same touches took just before, and at least `minMarginMs`.
 */
export async function makeDueSoon(
  sessions: SessionManager,
  clock: OffsetClock,
  ids: readonly string[],
  minMarginMs = 200,
): Promise<SessionRecord[]> {
  const touchAll = async () => {
    const touched = await Promise.all(ids.map((id) => sessions.touch(id)));
    expect(touched.map((session) => session?.id)).toEqual(ids);
    return touched as SessionRecord[];
  };
  const startedAt = Date.now();
  await touchAll();
  const marginMs = Math.max(minMarginMs, 10 * (Date.now() - startedAt));
  // Set back by all of the ttl but the margin, the touch puts each deadline the margin ahead.
  clock.shift(marginMs - sessions.ttl);
  try {
    return await touchAll();
  } finally {
    clock.shift(sessions.ttl - marginMs);
  }
}
