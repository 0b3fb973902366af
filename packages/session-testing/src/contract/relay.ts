import { randomUUID } from "node:crypto";
import type {
  RelayMember,
  RelayMessage,
  SessionRelay,
  SessionStore,
  StreamEvent,
} from "@mcp-sessions/session-core";
import { describe, expect, it } from "vitest";
import { createAll, HOUR, record, SIGNAL_WAIT, uniqueId } from "./fixtures.js";

/** A relay and the store whose sessions it serves, as `describeSessionRelay`'s factory makes them. */
export interface SessionRelayPair {
  readonly store: SessionStore;
  readonly relay: SessionRelay;
}

export interface RelayContractContext {
  /** Makes a fresh pair for this test; the suite closes its store afterwards. */
  readonly openPair: () => Promise<SessionRelayPair>;
}

/** What one member heard, in arrival order. */
interface Heard {
  readonly messages: { readonly sessionId: string; readonly message: RelayMessage }[];
  readonly events: {
    readonly sessionId: string;
    readonly streamId: string;
    readonly event: StreamEvent;
  }[];
}

interface RecordingMember {
  readonly member: RelayMember;
  readonly heard: Heard;
}

/** `count` of `T`, as a tuple type: destructuring it needs no cast. */
type Tuple<T, N extends number, Built extends T[] = []> = Built["length"] extends N
  ? Built
  : Tuple<T, N, [...Built, T]>;

/** Joins `count` members of `relay`, each recording what it hears, once all are ready. */
async function joinRecording<N extends number>(
  relay: SessionRelay,
  count: N,
): Promise<Tuple<RecordingMember, N>> {
  const members = Array.from({ length: count }, () => {
    const heard: Heard = { messages: [], events: [] };
    const member = relay.join({
      message: (sessionId, message) => {
        heard.messages.push({ sessionId, message });
      },
      event: (sessionId, streamId, event) => {
        heard.events.push({ sessionId, streamId, event });
      },
    });
    return { member, heard };
  });
  await Promise.all(members.map(({ member }) => member.ready));
  return members as Tuple<RecordingMember, N>;
}

/**
 * Sends `target` a marker for `sessionId` and waits until it arrives. A relay delivers one
 * session's traffic to a member in order, so whatever was sent or published before the marker
 * has arrived by then: what `target` has not heard yet, it never will.
 */
async function fence(
  sender: RelayMember,
  target: RecordingMember,
  sessionId: string,
): Promise<void> {
  const marker = { fence: randomUUID() };
  expect(await sender.send(target.member.id, sessionId, marker)).toBe(true);
  await expect
    .poll(() => target.heard.messages.map(({ message }) => message), SIGNAL_WAIT)
    .toContainEqual(marker);
}

/** The events `heard` holds, in arrival order. */
function eventsOf(heard: Heard): StreamEvent[] {
  return heard.events.map(({ event }) => event);
}

/** Publishes `message` to `streamId` with `store` and returns its position. */
async function publishStored(
  member: RelayMember,
  sessionId: string,
  streamId: string,
  message: RelayMessage,
): Promise<string> {
  const position = await member.publish(sessionId, streamId, message, { store: true });
  expect(position).toEqual(expect.any(String));
  return position as string;
}

const ENDINGS = [
  ["delete", (store: SessionStore, id: string) => store.delete(id, { now: Date.now() })],
  ["expiry claimed by a sweep", (store: SessionStore) => store.sweep(Date.now() + 2 * HOUR)],
  ["clear", (store: SessionStore) => store.clear()],
] as const;

/**
 * Members of one relay reach each other by id and by broadcast; each session of its store has an
 * event log and stream holds that end with it. The factory's pairs are isolated from each
 * other, so every member here joins the same relay.
 */
export function describeRelay({ openPair }: RelayContractContext): void {
  describe("relay", () => {
    it("says whether it reaches other processes", async () => {
      const { relay } = await openPair();
      expect(typeof relay.shared).toBe("boolean");
    });

    it("send reaches the addressed member only, and resolves true", async () => {
      const { relay } = await openPair();
      const [a, b, c] = await joinRecording(relay, 3);
      const sessionId = uniqueId();
      const message = { jsonrpc: "2.0", id: 7, result: { answer: "yes" } };

      expect(await a.member.send(b.member.id, sessionId, message)).toBe(true);

      await expect.poll(() => b.heard.messages, SIGNAL_WAIT).toEqual([{ sessionId, message }]);
      await fence(a.member, c, sessionId);
      expect(c.heard.messages).toHaveLength(1);
      expect(a.heard.messages).toEqual([]);
      expect([a, b, c].flatMap(({ heard }) => heard.events)).toEqual([]);
    });

    it("send to an unknown member, or one that left, resolves false", async () => {
      const { relay } = await openPair();
      const [a, b] = await joinRecording(relay, 2);
      const sessionId = uniqueId();

      expect(await a.member.send(`unknown-${randomUUID()}`, sessionId, { n: 1 })).toBe(false);
      await b.member.leave();
      await b.member.leave();
      expect(await a.member.send(b.member.id, sessionId, { n: 2 })).toBe(false);

      expect(b.heard.messages).toEqual([]);
    });

    it("gives every member its own id", async () => {
      const { relay } = await openPair();
      const members = await joinRecording(relay, 5);

      const ids = members.map(({ member }) => member.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) expect(id).not.toContain(".");
    });

    it("broadcast reaches every other member, and not the sender", async () => {
      const { relay } = await openPair();
      const [a, b, c] = await joinRecording(relay, 3);
      const sessionId = uniqueId();
      const message = { jsonrpc: "2.0", method: "notifications/cancelled" };

      await a.member.broadcast(sessionId, message);

      for (const other of [b, c]) {
        await expect
          .poll(() => other.heard.messages, SIGNAL_WAIT)
          .toEqual([{ sessionId, message }]);
      }
      // The relay handed the broadcast to its members together: the sender's turn has passed.
      expect(a.heard.messages).toEqual([]);
    });

    it("publish with store returns distinct positions and delivers to the holder in log order", async () => {
      const { store, relay } = await openPair();
      const [a, b, c] = await joinRecording(relay, 3);
      const session = record();
      await createAll(store, [session]);
      const messages = Array.from({ length: 5 }, (_, n) => ({ jsonrpc: "2.0", n }));
      expect(await b.member.hold(session.id, "stream-1")).toEqual([]);

      const positions: string[] = [];
      for (const message of messages) {
        positions.push(await publishStored(a.member, session.id, "stream-1", message));
      }

      expect(new Set(positions).size).toBe(positions.length);
      for (const position of positions) expect(position).not.toContain(".");
      const expected = messages.map((message, n) => ({ position: positions[n], message }));
      await expect.poll(() => eventsOf(b.heard), SIGNAL_WAIT).toEqual(expected);
      expect(b.heard.events.map(({ sessionId, streamId }) => [sessionId, streamId])).toEqual(
        messages.map(() => [session.id, "stream-1"]),
      );
      // The log keeps them in the order they were published.
      expect(
        await c.member.hold(session.id, "stream-1", { after: positions[0] as string }),
      ).toEqual(expected.slice(1));
      expect(a.heard.events).toEqual([]);
    });

    it("publish without store delivers an event with no position and stores nothing", async () => {
      const { store, relay } = await openPair();
      const [a, b] = await joinRecording(relay, 2);
      const session = record();
      await createAll(store, [session]);
      await b.member.hold(session.id, "stream-1");

      const first = await publishStored(a.member, session.id, "stream-1", { n: 1 });
      expect(
        await a.member.publish(session.id, "stream-1", { n: 2 }, { store: false }),
      ).toBeUndefined();
      const third = await publishStored(a.member, session.id, "stream-1", { n: 3 });

      await expect.poll(() => b.heard.events.length, SIGNAL_WAIT).toBe(3);
      expect(eventsOf(b.heard)).toStrictEqual([
        { position: first, message: { n: 1 } },
        { message: { n: 2 } },
        { position: third, message: { n: 3 } },
      ]);
      expect(await b.member.hold(session.id, "stream-1", { after: first })).toEqual([
        { position: third, message: { n: 3 } },
      ]);
    });

    it("publish for a missing or ended session stores nothing, delivers nothing and resolves undefined", async () => {
      const { store, relay } = await openPair();
      const [a, b] = await joinRecording(relay, 2);
      const missing = uniqueId();
      const ended = record();
      await createAll(store, [ended]);
      await b.member.hold(ended.id, "stream-1");
      expect(await store.delete(ended.id, { now: Date.now() })).toBe(true);

      for (const stored of [true, false]) {
        const options = { store: stored };
        expect(await a.member.publish(missing, "stream-1", { n: 1 }, options)).toBeUndefined();
        expect(await a.member.publish(ended.id, "stream-1", { n: 2 }, options)).toBeUndefined();
      }

      expect(await b.member.hold(missing, "stream-1")).toBeUndefined();
      expect(await b.member.hold(ended.id, "stream-1")).toBeUndefined();
      await fence(a.member, b, ended.id);
      expect(b.heard.events).toEqual([]);
    });

    it("hold with after returns exactly the later stored events of that stream, oldest first", async () => {
      const { store, relay } = await openPair();
      const [a, b] = await joinRecording(relay, 2);
      const session = record();
      await createAll(store, [session]);
      const x1 = await publishStored(a.member, session.id, "x", { x: 1 });
      const y1 = await publishStored(a.member, session.id, "y", { y: 1 });
      const x2 = await publishStored(a.member, session.id, "x", { x: 2 });
      const y2 = await publishStored(a.member, session.id, "y", { y: 2 });
      const x3 = await publishStored(a.member, session.id, "x", {});

      expect(await b.member.hold(session.id, "x", { after: x1 })).toEqual([
        { position: x2, message: { x: 2 } },
        // Stored as it was given; the caller decides what an empty message means.
        { position: x3, message: {} },
      ]);
      expect(await b.member.hold(session.id, "y", { after: x1 })).toEqual([
        { position: y1, message: { y: 1 } },
        { position: y2, message: { y: 2 } },
      ]);
      expect(await b.member.hold(session.id, "y", { after: y2 })).toEqual([]);
      expect(await b.member.hold(session.id, "x", { after: x3 })).toEqual([]);
      expect(await b.member.hold(session.id, "z", { after: y1 })).toEqual([]);
    });

    it("hold with a position the session's log lacks resolves undefined, and still holds", async () => {
      const { store, relay } = await openPair();
      const [a, b] = await joinRecording(relay, 2);
      const session = record();
      const other = record();
      await createAll(store, [session, other]);
      const otherPosition = await publishStored(a.member, other.id, "stream-1", { n: 0 });

      // This session has no stored event yet: the other session's position cannot be in its log.
      expect(await b.member.hold(session.id, "stream-1", { after: otherPosition })).toBeUndefined();
      await publishStored(a.member, session.id, "stream-1", { n: 1 });
      for (const after of ["not-a-position", "0", "0-0", "", "-", "+"]) {
        expect(await b.member.hold(session.id, "stream-1", { after })).toBeUndefined();
      }

      // An unknown position means "replay impossible", not "not held": events still arrive.
      await expect
        .poll(() => eventsOf(b.heard), SIGNAL_WAIT)
        .toMatchObject([{ message: { n: 1 } }]);
    });

    it("hold moves the stream to the new holder atomically: the old one hears no more", async () => {
      const { store, relay } = await openPair();
      const [a, b, c] = await joinRecording(relay, 3);
      const session = record();
      await createAll(store, [session]);
      await b.member.hold(session.id, "stream-1");
      const first = await publishStored(a.member, session.id, "stream-1", { n: 1 });
      await expect.poll(() => eventsOf(b.heard), SIGNAL_WAIT).toHaveLength(1);

      const second = await publishStored(a.member, session.id, "stream-1", { n: 2 });
      expect(await c.member.hold(session.id, "stream-1", { after: first })).toEqual([
        { position: second, message: { n: 2 } },
      ]);
      const third = await publishStored(a.member, session.id, "stream-1", { n: 3 });

      await expect
        .poll(() => eventsOf(c.heard), SIGNAL_WAIT)
        .toEqual([{ position: third, message: { n: 3 } }]);
      await fence(a.member, b, session.id);
      expect(eventsOf(b.heard)).toEqual([
        { position: first, message: { n: 1 } },
        { position: second, message: { n: 2 } },
      ]);
    });

    it("release drops only the member's own hold", async () => {
      const { store, relay } = await openPair();
      const [a, b, c] = await joinRecording(relay, 3);
      const session = record();
      await createAll(store, [session]);
      await b.member.hold(session.id, "stream-1");

      await c.member.release(session.id, "stream-1");
      const first = await publishStored(a.member, session.id, "stream-1", { n: 1 });
      await expect
        .poll(() => eventsOf(b.heard), SIGNAL_WAIT)
        .toEqual([{ position: first, message: { n: 1 } }]);

      await b.member.release(session.id, "stream-1");
      const second = await publishStored(a.member, session.id, "stream-1", { n: 2 });

      await fence(a.member, b, session.id);
      expect(eventsOf(b.heard)).toHaveLength(1);
      expect(c.heard.events).toEqual([]);
      // Nobody held it, yet it was stored.
      expect(await c.member.hold(session.id, "stream-1", { after: first })).toEqual([
        { position: second, message: { n: 2 } },
      ]);
    });

    it.each(ENDINGS)("ending a session by %s drops its log and holds", async (_label, end) => {
      const { store, relay } = await openPair();
      const [a, b] = await joinRecording(relay, 2);
      const session = record();
      await createAll(store, [session]);
      await b.member.hold(session.id, "stream-1");
      const position = await publishStored(a.member, session.id, "stream-1", { n: 1 });
      await expect.poll(() => eventsOf(b.heard), SIGNAL_WAIT).toHaveLength(1);

      await end(store, session.id);
      await createAll(store, [record({ id: session.id })]);

      // The re-created session starts with no holder...
      expect(
        await a.member.publish(session.id, "stream-1", { n: 2 }, { store: false }),
      ).toBeUndefined();
      await fence(a.member, b, session.id);
      expect(eventsOf(b.heard)).toHaveLength(1);
      // ...and an empty log: the old position is unknown.
      expect(await b.member.hold(session.id, "stream-1", { after: position })).toBeUndefined();
    });
  });
}
