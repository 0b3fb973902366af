/** True when `response` is an SSE stream: it stays open for as long as the server has events. */
export function isEventStream(response: Response): boolean {
  return response.headers.get("content-type")?.startsWith("text/event-stream") ?? false;
}

/**
 * The same body, and a promise that settles once it is over: read to its end, failed, or
 * cancelled by whoever writes it out (a client that went away). Whatever serves the response,
 * the handler learns when its stream closed from this, not from the server framework.
 */
export function watchBody(source: ReadableStream<Uint8Array>): {
  readonly body: ReadableStream<Uint8Array>;
  readonly settled: Promise<void>;
} {
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const reader = source.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          settle();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        settle();
        controller.error(error);
      }
    },
    async cancel(reason) {
      settle();
      await reader.cancel(reason);
    },
  });
  return { body, settled };
}
