/** A promise and the functions that settle it: what {@link deferred} returns. */
export interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/**
 * A promise that the test settles from elsewhere, such as a client's request handler or an
 * event listener: the way to wait for an event instead of sleeping. `Promise.withResolvers()`,
 * which Node 20 lacks. Settling it a second time does nothing.
 * @example
 * const notified = deferred<string>();
 * client.setNotificationHandler(LoggingMessageNotificationSchema, async ({ params }) =>
 *   notified.resolve(String(params.data)),
 * );
 * expect(await within(notified.promise, { waitingFor: "the notification", timeoutMs: 15_000 }))
 *   .toBe("done");
 */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((settle, fail) => {
    resolve = settle;
    reject = fail;
  });
  return { promise, resolve, reject };
}
