import type { StreamEvent } from "@mcp-sessions/session-core";
import { eventId } from "./fleet-ids.js";
import { messageKind } from "./json-rpc.js";
import {
  endsRequestStream,
  isPrimingEvent,
  SSE_KEEP_ALIVE,
  STANDALONE_STREAM_ID,
  sseEvent,
} from "./sdk-assumptions.js";

const encoder = new TextEncoder();
const KEEP_ALIVE = encoder.encode(SSE_KEEP_ALIVE);

/**
 * One SSE response on this instance that relayed events are written to: the standalone GET
 * stream, or a stream resumed with `Last-Event-ID`. Events written before the response body
 * starts are kept, in order, and written first.
 */
export class StreamSink {
  readonly sessionId: string;
  readonly streamId: string;
  readonly #onClosed: () => void;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #pending: Uint8Array[] = [];
  #keepAlive: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(sessionId: string, streamId: string, onClosed: () => void) {
    this.sessionId = sessionId;
    this.streamId = streamId;
    this.#onClosed = onClosed;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Writes one event as the SDK would. A request stream is over once it carried the response:
   * the sink closes after it, as the SDK closes a request's stream.
   */
  writeEvent(event: StreamEvent): void {
    const chunk = this.#encode(event);
    if (chunk) this.#write(chunk);
    if (this.#isLast(event)) this.close();
  }

  /**
   * Puts a replay ahead of the events written so far, which came after it. Only before `body`.
   */
  replayFirst(events: readonly StreamEvent[]): void {
    const replayed: Uint8Array[] = [];
    for (const event of events) {
      const chunk = this.#encode(event);
      if (chunk) replayed.push(chunk);
      if (this.#isLast(event)) {
        this.#pending = replayed;
        this.close();
        return;
      }
    }
    this.#pending = [...replayed, ...this.#pending];
  }

  /**
   * Writes the SDK's keep-alive comment every `intervalMs` until the sink closes, as the SDK
   * does on its own streams, so proxies do not cut a quiet stream. `undefined`: none.
   */
  keepAlive(intervalMs: number | undefined): void {
    if (intervalMs === undefined || this.#closed) return;
    this.#keepAlive = setInterval(() => this.#write(KEEP_ALIVE), intervalMs);
    this.#keepAlive.unref();
  }

  /** Writes raw SSE bytes from the SDK's own body for this response. */
  writeRaw(chunk: Uint8Array): void {
    this.#write(chunk);
  }

  /**
   * The SSE response body: what was written so far, then everything written later, until
   * `close`. Cancelling it (the client left) closes the sink.
   */
  body(upstream?: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
    const reader = upstream?.getReader();
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
        for (const chunk of this.#pending) controller.enqueue(chunk);
        this.#pending = [];
        if (this.#closed) controller.close();
        else if (reader) void this.#pump(reader);
      },
      cancel: () => {
        reader?.cancel().catch(() => {});
        this.close();
      },
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#keepAlive);
    try {
      this.#controller?.close();
    } catch {
      // Already closed by a cancel.
    }
    this.#onClosed();
  }

  #encode(event: StreamEvent): Uint8Array | undefined {
    // The SDK wrote the priming event itself; it carries no message to replay.
    if (isPrimingEvent(event.message)) return undefined;
    const id = event.position === undefined ? undefined : eventId(this.streamId, event.position);
    return encoder.encode(sseEvent(event.message, id));
  }

  #isLast(event: StreamEvent): boolean {
    return this.streamId !== STANDALONE_STREAM_ID && endsRequestStream(messageKind(event.message));
  }

  #write(chunk: Uint8Array): void {
    if (this.#closed) return;
    if (this.#controller === undefined) {
      this.#pending.push(chunk);
      return;
    }
    try {
      this.#controller.enqueue(chunk);
    } catch {
      this.close();
    }
  }

  /** Copies the SDK's body (keep-alive comments) in; when the SDK ends its stream, so does this. */
  async #pump(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || this.#closed) break;
        this.#write(value);
      }
    } catch {
      // The SDK's stream errored: the response is over either way.
    }
    this.close();
  }
}

/** The sinks open on this instance, by session and stream. */
export class StreamSinks {
  readonly #sinks = new Map<string, Map<string, StreamSink>>();

  /**
   * Opens the sink of a stream. One already open here for the same stream is closed first: the
   * client has moved to the new connection. `onClosed` runs once, however the sink closes.
   */
  open(sessionId: string, streamId: string, onClosed: () => void): StreamSink {
    let streams = this.#sinks.get(sessionId);
    if (streams === undefined) {
      streams = new Map();
      this.#sinks.set(sessionId, streams);
    }
    streams.get(streamId)?.close();
    const sink = new StreamSink(sessionId, streamId, () => {
      const current = this.#sinks.get(sessionId);
      if (current?.get(streamId) === sink) {
        current.delete(streamId);
        if (current.size === 0) this.#sinks.delete(sessionId);
      }
      onClosed();
    });
    streams.set(streamId, sink);
    return sink;
  }

  get(sessionId: string, streamId: string): StreamSink | undefined {
    return this.#sinks.get(sessionId)?.get(streamId);
  }

  closeSession(sessionId: string): void {
    for (const sink of [...(this.#sinks.get(sessionId)?.values() ?? [])]) sink.close();
  }

  closeAll(): void {
    for (const sessionId of [...this.#sinks.keys()]) this.closeSession(sessionId);
  }
}
