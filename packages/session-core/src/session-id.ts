import { randomUUID } from "node:crypto";
import { InvalidSessionIdError } from "./errors.js";

/** The MCP rule: 1 to 256 visible ASCII characters (0x21–0x7E). */
const SESSION_ID_PATTERN = /^[\x21-\x7E]{1,256}$/;

/** The default id generator: a random UUID v4 from the platform CSPRNG. */
export function generateSessionId(): string {
  return randomUUID();
}

/** True when `id` is a string of 1 to 256 visible ASCII characters. */
export function isValidSessionId(id: unknown): id is string {
  return typeof id === "string" && SESSION_ID_PATTERN.test(id);
}

/**
 * Throws unless `id` is 1 to 256 visible ASCII characters.
 * The message describes the id's shape, never its content: it may be hostile.
 * @throws InvalidSessionIdError (`INVALID_SESSION_ID`)
 */
export function assertValidSessionId(id: unknown): asserts id is string {
  if (isValidSessionId(id)) return;
  const shape =
    typeof id !== "string"
      ? `a ${id === null ? "null" : typeof id}`
      : id.length === 0
        ? "an empty string"
        : id.length > 256
          ? `${id.length} characters long`
          : "a string with characters outside 0x21–0x7E";
  throw new InvalidSessionIdError(
    `Expected a session id of 1 to 256 visible ASCII characters (0x21–0x7E), got ${shape}`,
  );
}
