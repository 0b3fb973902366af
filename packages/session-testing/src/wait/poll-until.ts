import { setTimeout as delay } from "node:timers/promises";
import type { WaitOptions } from "./within.js";

/** Options of {@link pollUntil}. */
export interface PollOptions extends WaitOptions {
  /** How long to wait between checks, in ms. @default 50 */
  readonly intervalMs?: number;
  /** Stops polling at once: `pollUntil` rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * Calls `check` until it returns or resolves `true`: for a condition with no event to wait on,
 * such as a connection appearing in Redis's `CLIENT LIST`. Prefer awaiting the event itself
 * (with {@link deferred} and {@link within}) when there is one. A check that throws or rejects
 * counts as "not yet"; its last error becomes the `cause` of the timeout error.
 * @throws Error "Timed out after N ms waiting for …" once `timeoutMs` has passed.
 * @example
 * await pollUntil(async () => (await admin.pubsub("NUMSUB", channel))[1] === 2, {
 *   waitingFor: "both instances to subscribe",
 *   timeoutMs: 10_000,
 * });
 */
export async function pollUntil(
  check: () => boolean | Promise<boolean>,
  options: PollOptions,
): Promise<void> {
  const { waitingFor, timeoutMs, intervalMs = 50, signal } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    signal?.throwIfAborted();
    if (Date.now() >= deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${waitingFor}`, {
        cause: lastError,
      });
    }
    try {
      await delay(intervalMs, undefined, signal === undefined ? {} : { signal });
    } catch (error) {
      // An aborted delay rejects with a generic AbortError; report the signal's own reason.
      signal?.throwIfAborted();
      throw error;
    }
  }
}
