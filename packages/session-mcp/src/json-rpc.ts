import { JSONRPCMessageSchema } from "@modelcontextprotocol/sdk/types.js";

/**
 * What a JSON-RPC message is, told from its shape alone. The SDK's `isJSONRPC*` guards run a zod
 * parse each; on every message of every call that was most of the handler's own CPU. A kind
 * validates nothing: a message is routed by it, and the SDK validates it where it is handled.
 */
export type MessageKind = "request" | "notification" | "response" | "other";

export function messageKind(message: unknown): MessageKind {
  if (typeof message !== "object" || message === null) return "other";
  const { method, id } = message as { method?: unknown; id?: unknown };
  if (typeof method === "string")
    return "id" in message && id !== undefined ? "request" : "notification";
  if ("result" in message || "error" in message) return "response";
  return "other";
}

/** The method of a notification, or `undefined` for any other message. */
export function notificationMethod(message: unknown): string | undefined {
  return messageKind(message) === "notification"
    ? (message as { method: string }).method
    : undefined;
}

/**
 * True when `message` passes the schema the SDK's transport parses every message of a POST with:
 * the transport refuses the whole body for one that does not. A zod parse, so only for bodies
 * that need it before the transport sees them.
 */
export function isJsonRpcMessage(message: unknown): boolean {
  return JSONRPCMessageSchema.safeParse(message).success;
}
