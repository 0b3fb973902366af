/** A source of "now" in ms since the epoch. Inject one in tests to control expiry. */
export interface Clock {
  now(): number;
}

/** `Date.now()`. */
export const SYSTEM_CLOCK: Clock = Object.freeze({ now: () => Date.now() });

/** setTimeout rejects delays above 2^31−1 ms by firing at once; clamp instead. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Runs `fn` after `delayMs` (clamped to 0 … 2^31−1) on a timer that does not keep the process alive. */
export function unrefTimeout(fn: () => void, delayMs: number): NodeJS.Timeout {
  const timer = setTimeout(fn, Math.min(Math.max(0, delayMs), MAX_TIMER_DELAY_MS));
  timer.unref();
  return timer;
}
