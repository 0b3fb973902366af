/** What a test waits for, and how long it waits before it fails. */
export interface WaitOptions {
  /** What is awaited, for the error message: "the elicitation", "127.0.0.1:6379 to answer PING". */
  readonly waitingFor: string;
  /** How long to wait before failing, in ms: a bound on the wait, generous on a loaded machine. */
  readonly timeoutMs: number;
}

/**
 * `promise`, or a rejection once `timeoutMs` has passed: a bound on waiting for an event, so a
 * test that would hang fails with a message naming what never came. Never a sleep: a passing
 * wait ends the moment `promise` settles, and the timer is cleared then.
 * @throws Error "Timed out after N ms waiting for …"; a rejection of `promise` passes through.
 * @example
 * const asked = deferred();
 * client.setRequestHandler(ElicitRequestSchema, async () => {
 *   asked.resolve();
 *   return { action: "accept", content: { confirmed: true } };
 * });
 * await within(asked.promise, { waitingFor: "the elicitation", timeoutMs: 15_000 });
 */
export function within<T>(promise: Promise<T>, options: WaitOptions): Promise<T> {
  const { waitingFor, timeoutMs } = options;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${waitingFor}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
