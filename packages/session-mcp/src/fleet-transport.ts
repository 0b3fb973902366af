import type { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type {
  Transport,
  TransportSendOptions,
} from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  ErrorCode,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type JSONRPCResponse,
  type MessageExtraInfo,
} from "@modelcontextprotocol/sdk/types.js";
import { parseRoutedRequestId, routedRequestId } from "./fleet-ids.js";
import { type MessageKind, messageKind } from "./json-rpc.js";
import {
  goesOnStandaloneStream,
  isSdkRequestId,
  usesOwnIdAsProgressToken,
} from "./sdk-assumptions.js";

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
    const kind = messageKind(message);
    const outgoing = this.#outbound(message, kind);
    const relatedRequestId = options?.relatedRequestId;
    if (goesOnStandaloneStream(kind, relatedRequestId)) return this.#sendStandalone(outgoing);
    // A response, or a message about a request, goes on that request's stream: here.
    return this.#inner.send(outgoing, relatedRequestId === undefined ? {} : { relatedRequestId });
  }

  /** A message from the client that another instance received and routed here. */
  deliver(message: JSONRPCMessage): void {
    this.onmessage?.(this.#inbound(message));
  }

  /**
   * Fails every request still waiting for the client with `reason`, as an error reply would
   * (sdk-assumptions: ERROR_REPLY_FAILS_REQUEST): the tool that sent it gets an `McpError` at
   * once instead of waiting for its timeout.
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

  #outbound(message: JSONRPCMessage, kind: MessageKind): JSONRPCMessage {
    if (kind === "request") {
      const request = message as JSONRPCRequest;
      if (!isSdkRequestId(request.id)) return message;
      this.#waiting.add(request.id);
      const id = routedRequestId(this.#memberId, request.id);
      if (usesOwnIdAsProgressToken(request)) {
        const params = {
          ...request.params,
          _meta: { ...request.params?._meta, progressToken: id },
        };
        return { ...request, id, params };
      }
      return { ...request, id };
    }
    if (kind === "notification") {
      const notification = message as JSONRPCNotification;
      const requestId = notification.params?.requestId;
      // The SDK cancels a request by its own id (sdk-assumptions: CANCELLATION_BY_ID).
      if (
        notification.method === "notifications/cancelled" &&
        typeof requestId === "number" &&
        this.#waiting.delete(requestId)
      ) {
        const routed = routedRequestId(this.#memberId, requestId);
        return { ...notification, params: { ...notification.params, requestId: routed } };
      }
    }
    return message;
  }

  #inbound(message: JSONRPCMessage): JSONRPCMessage {
    const kind = messageKind(message);
    if (kind === "response") {
      const response = message as JSONRPCResponse;
      const routed = this.#ownRoutedId(response.id);
      if (routed === undefined) return message;
      this.#waiting.delete(routed);
      return { ...response, id: routed };
    }
    if (kind === "notification") {
      const notification = message as JSONRPCNotification;
      if (notification.method !== "notifications/progress") return message;
      const routed = this.#ownRoutedId(notification.params?.progressToken);
      if (routed !== undefined) {
        return { ...notification, params: { ...notification.params, progressToken: routed } };
      }
    }
    return message;
  }

  #ownRoutedId(id: unknown): number | undefined {
    const routed = parseRoutedRequestId(id);
    return routed?.memberId === this.#memberId ? routed.localId : undefined;
  }
}
