import {
  isSessionError,
  StoreClosedError,
  StoreUnavailableError,
} from "@mcp-sessions/session-core";

/**
 * True when Redis itself answered with an error (`-ERR …`, `NOPERM …`), as opposed to a
 * connection that failed or timed out. ioredis types its ReplyError as `any`, so the name is
 * the one reliable mark; this is the only place that reads it.
 */
export function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === "ReplyError";
}

/**
 * Runs one Redis call with a deadline. Whatever goes wrong comes back as a typed error: our own
 * errors pass through, everything else (a refused connection, a timeout, a reply error) becomes
 * `StoreUnavailableError` with the cause attached. A call that times out may still finish in
 * Redis later; its late result is dropped, never left as an unhandled rejection.
 */
export async function withDeadline<T>(
  what: string,
  timeoutMs: number,
  call: () => Promise<T>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const work = call();
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new StoreUnavailableError(`Redis did not answer ${what} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    timer.unref();
  });
  try {
    return await Promise.race([work, deadline]);
  } catch (error) {
    work.catch(() => {});
    throw toStoreError(what, error);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The error a failed Redis call rejects with: our own errors as they are, anything else (a
 * refused connection, ioredis giving up on retries, a reply error) as `StoreUnavailableError`
 * with the cause attached.
 */
export function toStoreError(what: string, error: unknown): Error {
  if (isSessionError(error)) return error;
  return new StoreUnavailableError(`Redis failed on ${what}: ${describe(error)}`, {
    cause: error,
  });
}

/** A script or command answered something its caller does not know: a bug, or a foreign script. */
export function unexpectedReply(script: string, reply: unknown): Error {
  return new Error(`Unexpected reply from ${script}: ${typeof reply}`);
}

/** The error a call after `close()` gets. */
export function closedError(): StoreClosedError {
  return new StoreClosedError("RedisSessionStore");
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : typeof error;
}
