import type { RelayMessage, StreamEvent } from "@mcp-sessions/session-core";

/**
 * What one pub/sub message of the relay carries. On the wire it is one field a line, kind first,
 * the JSON last (JSON.stringify never writes a raw line break):
 *
 *   m\n<sessionId>\n<json>                               a message `send` addressed to a member
 *   b\n<senderId>\n<sessionId>\n<json>                   a broadcast; the sender skips its own
 *   e\n<position or empty>\n<streamId>\n<sessionId>\n<json>   an event; publishEvent.lua writes it
 */
export type RelayFrame =
  | { readonly kind: "message"; readonly sessionId: string; readonly message: RelayMessage }
  | {
      readonly kind: "broadcast";
      readonly senderId: string;
      readonly sessionId: string;
      readonly message: RelayMessage;
    }
  | {
      readonly kind: "event";
      readonly sessionId: string;
      readonly streamId: string;
      readonly event: StreamEvent;
    };

const FIELD_COUNTS = { m: 3, b: 4, e: 5 } as const;

export function encodeMessage(sessionId: string, message: RelayMessage): string {
  return `m\n${sessionId}\n${JSON.stringify(message)}`;
}

export function encodeBroadcast(
  senderId: string,
  sessionId: string,
  message: RelayMessage,
): string {
  return `b\n${senderId}\n${sessionId}\n${JSON.stringify(message)}`;
}

/** The frame `payload` holds, or undefined when it is not one (wrong shape, invalid JSON). */
export function parseFrame(payload: string): RelayFrame | undefined {
  const kind = payload.charAt(0);
  if ((kind !== "m" && kind !== "b" && kind !== "e") || payload.charAt(1) !== "\n") {
    return undefined;
  }
  const fields = splitFields(payload, FIELD_COUNTS[kind]);
  if (fields === undefined) return undefined;
  const message = parseMessage(fields.at(-1) as string);
  if (message === undefined) return undefined;
  if (kind === "m") {
    const [, sessionId] = fields as [string, string];
    return sessionId === "" ? undefined : { kind: "message", sessionId, message };
  }
  if (kind === "b") {
    const [, senderId, sessionId] = fields as [string, string, string];
    if (senderId === "" || sessionId === "") return undefined;
    return { kind: "broadcast", senderId, sessionId, message };
  }
  const [, position, streamId, sessionId] = fields as [string, string, string, string];
  if (streamId === "" || sessionId === "") return undefined;
  return {
    kind: "event",
    sessionId,
    streamId,
    event: position === "" ? { message } : { position, message },
  };
}

/** A relay message from its JSON: a plain JSON object, or undefined for anything else. */
export function parseMessage(json: string): RelayMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as RelayMessage)
    : undefined;
}

/**
 * Frames are split on line breaks, so a session or stream id with one would be read as
 * another's. Session ids never have one (visible ASCII); this keeps a stream id honest too.
 * @throws TypeError naming the argument
 */
export function assertFrameField(name: string, value: string): void {
  // The value is not shown: a session id is as good as a credential.
  if (typeof value !== "string" || value === "" || value.includes("\n")) {
    throw new TypeError(
      `Expected \`${name}\` to be a non-empty string without line breaks (${typeof value})`,
    );
  }
}

/** The first `count - 1` lines of `payload` and, as the last field, everything after them. */
function splitFields(payload: string, count: number): string[] | undefined {
  const fields: string[] = [];
  let start = 0;
  for (let field = 1; field < count; field++) {
    const end = payload.indexOf("\n", start);
    if (end === -1) return undefined;
    fields.push(payload.slice(start, end));
    start = end + 1;
  }
  fields.push(payload.slice(start));
  return fields;
}
