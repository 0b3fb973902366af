import type { RelayMember, RelayMessage } from "@mcp-sessions/session-core";
import type {
  EventId,
  EventStore,
  StreamId,
} from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { eventId, parseEventId } from "./fleet-ids.js";

/**
 * The SDK's `EventStore` for one session, kept in the session store's event log (a Redis Stream
 * per session with `RedisSessionStore`), so any instance can replay it. Event ids are
 * `<stream>.<position>`: the session comes from the `Mcp-Session-Id` header, the stream and the
 * place in the log from the id. Storing an event also hands it to whichever instance holds the
 * stream, so a stream resumed elsewhere keeps receiving what this instance's server sends on it.
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

  async getStreamIdForEventId(id: EventId): Promise<StreamId | undefined> {
    return parseEventId(id)?.streamId;
  }

  /** Replays the stream's events after `lastEventId` and holds the stream on this instance. */
  async replayEventsAfter(
    lastEventId: EventId,
    { send }: { send: (eventId: EventId, message: JSONRPCMessage) => Promise<void> },
  ): Promise<StreamId> {
    const parsed = parseEventId(lastEventId);
    const events =
      parsed &&
      (await this.#member.hold(this.#sessionId, parsed.streamId, { after: parsed.position }));
    if (parsed === undefined || events === undefined) {
      throw new Error("Unknown Last-Event-ID: never stored, no longer kept, or another session's");
    }
    for (const event of events) {
      if (event.position === undefined || Object.keys(event.message).length === 0) continue;
      await send(eventId(parsed.streamId, event.position), event.message as JSONRPCMessage);
    }
    return parsed.streamId;
  }
}
