import type {
  HoldOptions,
  RelayMember,
  RelayMessage,
  SendLog,
  SessionRelay,
  StreamEvent,
} from "@mcp-sessions/session-core";
import { describeError, log } from "@mcp-sessions/session-core/store";
import type {
  EventStore,
  WebStandardStreamableHTTPServerTransport,
} from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { parseEventId, parseRoutedRequestId } from "./fleet-ids.js";
import { FleetTransport } from "./fleet-transport.js";
import { isJsonRpcMessage, messageKind, notificationMethod } from "./json-rpc.js";
import { RelayEventStore } from "./relay-event-store.js";
import { keepAliveIntervalMs, STANDALONE_STREAM_ID } from "./sdk-assumptions.js";
import { type StreamSink, StreamSinks } from "./stream-sinks.js";

const LOGGER = "session-mcp/fleet";

export interface FleetOptions {
  readonly relay: SessionRelay;
  /** Keep every SSE event in the session's log, so a client can resume on any instance. */
  readonly resumable: boolean;
  /**
   * The transports' `keepAliveMs` option, `undefined` for the SDK's default: resumed streams,
   * which are the handler's own, keep the same rhythm.
   */
  readonly keepAliveMs: number | undefined;
  readonly logger: SendLog;
}

/** What `routeFromClient` did with a client's messages. */
export type Routed =
  | {
      readonly kind: "routed";
      /** The messages this instance's transport must handle. */
      readonly local: readonly unknown[];
      /** True when a reply was addressed to an instance that is gone. */
      readonly undeliverable: boolean;
    }
  /** A message is not JSON-RPC, so the transport would refuse them all: none was routed. */
  | { readonly kind: "invalid" };

/**
 * This instance's part in the fleet: its relay membership, the session transports here that
 * routed client messages go to, and the SSE streams here that relayed events go to. Everything
 * in and out of another instance passes through here; it speaks relay and streams, and leaves
 * HTTP to the handler.
 *
 * - A client's reply to a server request, and its progress on one, go to the instance whose
 *   request it answers, named in the request id.
 * - Any other client notification (`notifications/cancelled`, `…/roots/list_changed`) goes to
 *   every instance: only the one running the request acts on a cancellation.
 * - Messages outside a request go to whichever instance holds the client's GET stream.
 * - With `resumable`, every event is logged per session and a `Last-Event-ID` resumes here
 *   whatever instance wrote it.
 */
export class Fleet {
  readonly member: RelayMember;
  readonly #options: FleetOptions;
  readonly #sinks = new StreamSinks();
  /** The transport of each session live here, which client messages routed here go to. */
  readonly #attached = new Map<string, FleetTransport>();

  constructor(options: FleetOptions) {
    this.#options = options;
    this.member = options.relay.join({
      message: (sessionId, message) =>
        this.#attached.get(sessionId)?.deliver(message as JSONRPCMessage),
      event: (sessionId, streamId, event) =>
        this.#sinks.get(sessionId, streamId)?.writeEvent(event),
    });
  }

  /** The SDK event store for a session's transport, when resumable. */
  eventStore(sessionId: string): EventStore | undefined {
    return this.#options.resumable ? new RelayEventStore(sessionId, this.member) : undefined;
  }

  /** A session's SDK transport, wrapped so that its server's messages find their way. */
  wrap(sessionId: string, inner: WebStandardStreamableHTTPServerTransport): FleetTransport {
    return new FleetTransport(inner, this.member.id, (message) =>
      this.sendStandalone(sessionId, message),
    );
  }

  /** From now on, client messages other instances receive for the session go to `transport`. */
  attach(sessionId: string, transport: FleetTransport): void {
    this.#attached.set(sessionId, transport);
  }

  /** Undoes `attach`, unless another transport of the session was attached since. */
  detach(sessionId: string, transport: FleetTransport): void {
    if (this.#attached.get(sessionId) === transport) this.#attached.delete(sessionId);
  }

  /**
   * Sends a server message outside any request to the client's standalone stream, wherever it
   * is open. Never rejects: like the SDK with no stream open, a message that cannot be delivered
   * is dropped (and logged), since callers such as `sendResourceListChanged` do not await it.
   */
  async sendStandalone(sessionId: string, message: JSONRPCMessage): Promise<void> {
    const { resumable } = this.#options;
    // Logged events must reach the stream in log order, so they always go through the relay.
    const here = resumable ? undefined : this.#sinks.get(sessionId, STANDALONE_STREAM_ID);
    if (here) {
      here.writeEvent({ message: message as RelayMessage });
      return;
    }
    try {
      await this.member.publish(sessionId, STANDALONE_STREAM_ID, message as RelayMessage, {
        store: resumable,
      });
    } catch (error) {
      this.#warn("A server message outside any request was lost: the relay failed", error);
    }
  }

  /**
   * Sends each client message that belongs to another instance there, and returns the rest.
   * Nothing is sent unless the transport would take every message of the body; the caller has
   * already refused a batch over the transport's size limit.
   * @throws StoreUnavailableError when the relay is down
   */
  async routeFromClient(sessionId: string, messages: readonly unknown[]): Promise<Routed> {
    const destinations = messages.map((message) => destinationOf(message, this.member.id));
    // A message that is not JSON-RPC makes the transport refuse the whole body (sdk-assumptions:
    // BODY_ALL_OR_NOTHING), so every one is checked before any leaves. The check is a zod parse: a body that stays here skips it, as
    // the transport checks that one itself.
    if (destinations.some((to) => to !== "here") && !messages.every(isJsonRpcMessage)) {
      return { kind: "invalid" };
    }
    const local: unknown[] = [];
    let undeliverable = false;
    for (const [index, message] of messages.entries()) {
      const to = destinations[index] as Destination;
      if (typeof to === "object") {
        const delivered = await this.member.send(to.member, sessionId, message as RelayMessage);
        if (!delivered) undeliverable = true;
        continue;
      }
      if (to === "everywhere") await this.member.broadcast(sessionId, message as RelayMessage);
      local.push(message);
    }
    return { kind: "routed", local, undeliverable };
  }

  /**
   * Holds the session's standalone stream here, around `upstream`, the body of the SDK's answer
   * to the GET: from the moment it is returned, every message outside a request reaches it.
   * @throws StoreUnavailableError when the relay is down; `upstream` is cancelled
   */
  async openStandalone(
    sessionId: string,
    upstream: ReadableStream<Uint8Array>,
  ): Promise<ReadableStream<Uint8Array>> {
    const sink = this.#openSink(sessionId, STANDALONE_STREAM_ID);
    try {
      await this.#hold(sink);
    } catch (error) {
      await upstream.cancel();
      throw error;
    }
    return sink.body(upstream);
  }

  /**
   * The stream of a `Last-Event-ID` resume: the logged events after it, then the rest as they
   * are logged, whichever instance writes them. `undefined` when the id is no event of this
   * session that is still kept.
   * @throws StoreUnavailableError when the relay is down
   */
  async resume(
    sessionId: string,
    lastEventId: string,
  ): Promise<ReadableStream<Uint8Array> | undefined> {
    const parsed = parseEventId(lastEventId);
    if (parsed === undefined) return undefined;
    const sink = this.#openSink(sessionId, parsed.streamId);
    const replay = await this.#hold(sink, { after: parsed.position });
    if (replay === undefined) return undefined;
    // The hold and the read were one atomic step: what the sink got since is all newer.
    sink.replayFirst(replay);
    sink.keepAlive(keepAliveIntervalMs(this.#options.keepAliveMs));
    return sink.body();
  }

  /** Closes this instance's streams of a session that ended. */
  closeSession(sessionId: string): void {
    this.#sinks.closeSession(sessionId);
  }

  async close(): Promise<void> {
    this.#attached.clear();
    this.#sinks.closeAll();
    await this.member.leave();
  }

  #openSink(sessionId: string, streamId: string): StreamSink {
    return this.#sinks.open(sessionId, streamId, () => {
      this.member
        .release(sessionId, streamId)
        .catch((error: unknown) => this.#warn("Releasing a stream failed", error));
    });
  }

  /**
   * Holds the sink's stream here. The sink is closed when the hold fails, or finds the session
   * gone or `options.after` unknown (then `undefined`): nothing will ever be written to it.
   */
  async #hold(
    sink: StreamSink,
    options?: HoldOptions,
  ): Promise<readonly StreamEvent[] | undefined> {
    try {
      const replay = await this.member.hold(sink.sessionId, sink.streamId, options);
      if (replay === undefined) sink.close();
      return replay;
    } catch (error) {
      sink.close();
      throw error;
    }
  }

  #warn(message: string, error: unknown): void {
    log(this.#options.logger, {
      level: "warning",
      logger: LOGGER,
      data: { message, error: describeError(error) },
    });
  }
}

/**
 * Where a client message goes: only to another instance (a reply to, or progress on, one of its
 * requests), to this one and every other (a notification the fleet shares), or only here.
 */
type Destination = "here" | "everywhere" | { readonly member: string };

function destinationOf(message: unknown, self: string): Destination {
  const target = addresseeOf(message);
  if (target !== undefined && target !== self) return { member: target };
  if (target === undefined && isFleetNotification(message)) return "everywhere";
  return "here";
}

/** The instance a client message is addressed to, for replies to and progress on its requests. */
function addresseeOf(message: unknown): string | undefined {
  if (messageKind(message) === "response") {
    return parseRoutedRequestId((message as { id?: unknown }).id)?.memberId;
  }
  if (notificationMethod(message) === "notifications/progress") {
    const params = (message as { params?: { progressToken?: unknown } }).params;
    return parseRoutedRequestId(params?.progressToken)?.memberId;
  }
  return undefined;
}

/** A client notification every instance serving the session should see. */
function isFleetNotification(message: unknown): boolean {
  const method = notificationMethod(message);
  return method !== undefined && method !== "notifications/initialized";
}
