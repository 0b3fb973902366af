import type { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type {
  Transport,
  TransportSendOptions,
} from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  ErrorCode,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  type JSONRPCMessage,
  type MessageExtraInfo,
} from "@modelcontextprotocol/sdk/types.js";
import { parseRoutedRequestId, routedRequestId } from "./fleet-ids.js";

/** Sends a message that belongs on the client's standalone stream, wherever it is open. */
export type StandaloneSender = (message: JSONRPCMessage) => Promise<void>;

/**
 * The transport a session's server is connected to on this instance: the SDK's own, wrapped so
 * that the session works across the fleet. Only public `Transport` members are used.
 *
 * - The server's requests to the client get fleet-wide ids (`routedRequestId`), so a reply that
 *   lands on any instance finds its way back here, and two instances never use the same id.
 * - A message outside any request goes to the client's standalone stream through the fleet,
 *   since that stream may be open on another instance.
 * - Messages other instances route here come in through `deliver`.
 */
export class FleetTransport implements Transport {
  readonly #inner: WebStandardStreamableHTTPServerTransport;
  readonly #memberId: string;
  readonly #sendStandalone: StandaloneSender;
  /** This server's requests to the client that still wait for a reply, by local id. */
  readonly #waiting = new Set<number>();

  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;

  constructor(
    inner: WebStandardStreamableHTTPServerTransport,
    memberId: string,
    sendStandalone: StandaloneSender,
  ) {
    this.#inner = inner;
    this.#memberId = memberId;
    this.#sendStandalone = sendStandalone;
    inner.onmessage = (message, extra) => this.onmessage?.(this.#inbound(message), extra);
    inner.onclose = () => this.onclose?.();
    inner.onerror = (error) => this.onerror?.(error);
  }

  get sessionId(): string | undefined {
    return this.#inner.sessionId;
  }

  start(): Promise<void> {
    return this.#inner.start();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const outgoing = this.#outbound(message);
    const relatedRequestId = options?.relatedRequestId;
    // A response, or a message about a request, goes on that request's stream: here.
    if (relatedRequestId !== undefined) return this.#inner.send(outgoing, { relatedRequestId });
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      return this.#inner.send(outgoing);
    }
    return this.#sendStandalone(outgoing);
  }

  /** A message from the client that another instance received and routed here. */
  deliver(message: JSONRPCMessage): void {
    this.onmessage?.(this.#inbound(message));
  }

  /**
   * Fails every request still waiting for the client with `reason`, as an error reply would:
   * the tool that sent it gets an `McpError` at once instead of waiting for its timeout.
   */
  failWaiting(reason: string): void {
    for (const id of [...this.#waiting]) {
      this.#waiting.delete(id);
      this.onmessage?.({
        jsonrpc: "2.0",
        id,
        error: { code: ErrorCode.ConnectionClosed, message: reason },
      });
    }
  }

  #outbound(message: JSONRPCMessage): JSONRPCMessage {
    if (isJSONRPCRequest(message) && typeof message.id === "number") {
      this.#waiting.add(message.id);
      const id = routedRequestId(this.#memberId, message.id);
      const meta = message.params?._meta;
      // The SDK's progress token for a request is the request's own id.
      if (meta?.progressToken === message.id) {
        return {
          ...message,
          id,
          params: { ...message.params, _meta: { ...meta, progressToken: id } },
        };
      }
      return { ...message, id };
    }
    if (
      isJSONRPCNotification(message) &&
      message.method === "notifications/cancelled" &&
      typeof message.params?.requestId === "number" &&
      this.#waiting.delete(message.params.requestId)
    ) {
      const requestId = routedRequestId(this.#memberId, message.params.requestId);
      return { ...message, params: { ...message.params, requestId } };
    }
    return message;
  }

  #inbound(message: JSONRPCMessage): JSONRPCMessage {
    if (isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) {
      const routed = this.#ownRoutedId(message.id);
      if (routed === undefined) return message;
      this.#waiting.delete(routed);
      return { ...message, id: routed };
    }
    if (isJSONRPCNotification(message) && message.method === "notifications/progress") {
      const routed = this.#ownRoutedId(message.params?.progressToken);
      if (routed !== undefined) {
        return { ...message, params: { ...message.params, progressToken: routed } };
      }
    }
    return message;
  }

  #ownRoutedId(id: unknown): number | undefined {
    const routed = parseRoutedRequestId(id);
    return routed?.memberId === this.#memberId ? routed.localId : undefined;
  }
}
