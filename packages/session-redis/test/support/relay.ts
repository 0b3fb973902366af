import { randomUUID } from "node:crypto";
import type {
  RelayMember,
  RelayMessage,
  SessionRecord,
  SessionRelay,
  StreamEvent,
} from "@mcp-sessions/session-core";

/** A relay member and everything it heard, in arrival order. */
export interface RecordingMember {
  readonly member: RelayMember;
  readonly messages: { readonly sessionId: string; readonly message: RelayMessage }[];
  readonly events: {
    readonly sessionId: string;
    readonly streamId: string;
    readonly event: StreamEvent;
  }[];
}

/** Joins `store.relay` with a listener that records what the member hears. */
export function joinRecording(store: { readonly relay: SessionRelay }): RecordingMember {
  const recording = {
    messages: [] as RecordingMember["messages"],
    events: [] as RecordingMember["events"],
  };
  const member = store.relay.join({
    message: (sessionId, message) => {
      recording.messages.push({ sessionId, message });
    },
    event: (sessionId, streamId, event) => {
      recording.events.push({ sessionId, streamId, event });
    },
  });
  return { member, ...recording };
}

/** A session record due in an hour, with a fresh id unless one is given. */
export function sessionRecord(id = `session-${randomUUID()}`): SessionRecord {
  const now = Date.now();
  return { id, createdAt: now, lastAccessedAt: now, expiresAt: now + 3_600_000 };
}
