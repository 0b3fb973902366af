import { describeError, log, type SendLog } from "./logger.js";

/**
 * Runs a user callback so that a throw or a rejection is logged and contained: one failing
 * handler must not stop other sessions from expiring or crash the process. The returned promise
 * never rejects.
 */
export async function runGuarded(
  sendLog: SendLog,
  logger: string,
  what: string,
  fn: () => unknown,
): Promise<void> {
  try {
    await fn();
  } catch (error) {
    log(sendLog, {
      level: "error",
      logger,
      data: { message: `${what} failed`, error: describeError(error) },
    });
  }
}
