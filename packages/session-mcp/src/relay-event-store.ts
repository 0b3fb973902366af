import type { RelayMember, RelayMessage } from "@mcp-sessions/session-core";
import type {
  EventId,
  EventStore,
  StreamId,
} from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { eventId } from "./fleet-ids.js";

/**
 * The SDK's `EventStore` for one session, kept in the relay's per-session log (a Redis Stream
 * per session with `RedisSessionStore`), so any instance can replay it. Event ids are
 * `<stream>.<position>`: the session comes from the `Mcp-Session-Id` header, the stream and the
 * place in the log from the id. Storing an event also hands it to whichever instance holds the
 * stream, so a stream resumed elsewhere keeps receiving what this instance's server sends on it.
 *
 * It only stores. Every `Last-Event-ID` is answered by `Fleet.resume`, which reads the log and
 * takes the stream's hold in one atomic step and needs no transport on the instance it lands
 * on; the SDK's own replay would need an adopted transport there, and could not see events
 * written after it by another instance.
 */
export class RelayEventStore implements EventStore {
  readonly #sessionId: string;
  readonly #member: RelayMember;

  constructor(sessionId: string, member: RelayMember) {
    this.#sessionId = sessionId;
    this.#member = member;
  }

  async storeEvent(streamId: StreamId, message: JSONRPCMessage): Promise<EventId> {
    const position = await this.#member.publish(
      this.#sessionId,
      streamId,
      message as RelayMessage,
      { store: true },
    );
    if (position === undefined) throw new Error("The session ended; the event was not stored");
    return eventId(streamId, position);
  }

  /**
   * Never called; the SDK's `EventStore` type requires it. The transport replays only for a GET
   * with `Last-Event-ID` (sdk-assumptions: REPLAY_ONLY_ON_GET), and the handler answers each of
   * those with `Fleet.resume` before any transport sees it. Should an SDK release call it from
   * elsewhere, the transport answers that request with its own 500 and passes this error to
   * its `onerror`.
   */
  replayEventsAfter(): Promise<StreamId> {
    return Promise.reject(
      new Error("RelayEventStore does not replay: the handler answers Last-Event-ID itself"),
    );
  }
}
