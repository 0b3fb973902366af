import { setTimeout as delay } from "node:timers/promises";

/** Options of {@link pollUntil}. */
export interface PollOptions {
  /** What is awaited, for the error message: "127.0.0.1:6379 to answer PING". */
  readonly waitingFor: string;
  readonly timeoutMs: number;
  /** @default 50 */
  readonly intervalMs?: number;
  /** Stops polling at once: `pollUntil` rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/**
 * Calls `check` until it resolves `true`. A check that rejects counts as "not yet"; its last
 * error becomes the `cause` of the timeout error.
 * @throws Error "Timed out after N ms waiting for …" once `timeoutMs` has passed.
 */
export async function pollUntil(
  check: () => Promise<boolean>,
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
