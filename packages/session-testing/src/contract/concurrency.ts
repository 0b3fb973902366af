import { describe, expect, it } from "vitest";
import {
  type ContractContext,
  collect,
  createAll,
  HOUR,
  listAll,
  MINUTE,
  record,
  SIGNAL_WAIT,
  sortedIds,
} from "./fixtures.js";

/** Concurrent calls: every write is atomic, and each race has exactly one winner. */
export function describeConcurrency({ openStore }: ContractContext): void {
  describe("concurrent calls", () => {
    it("concurrent creates of one id: exactly one is created, and its whole record is kept", async () => {
      const store = await openStore();
      const base = Date.now();
      const id = record().id;
      const candidates = Array.from({ length: 20 }, (_, n) =>
        record({
          id,
          createdAt: base,
          expiresAt: base + HOUR + n,
          owner: `user-${n}`,
          metadata: { n },
        }),
      );

      const outcomes = await Promise.all(candidates.map((session) => store.create(session)));

      expect(outcomes.filter((outcome) => outcome === "created")).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome === "exists")).toHaveLength(
        candidates.length - 1,
      );
      const winner = candidates[outcomes.indexOf("created")];
      expect(await store.get(id, { now: base })).toStrictEqual({
        status: "found",
        session: winner,
      });
    });

    it("concurrent creates never exceed maxSessions", async () => {
      const store = await openStore();
      const base = Date.now();
      const sessions = Array.from({ length: 20 }, () => record({ createdAt: base }));

      const outcomes = await Promise.all(
        sessions.map((session) => store.create(session, { maxSessions: 5 })),
      );

      expect(outcomes.filter((outcome) => outcome === "created")).toHaveLength(5);
      expect(outcomes.filter((outcome) => outcome === "full")).toHaveLength(15);
      const created = sessions.filter((_, n) => outcomes[n] === "created").map((s) => s.id);
      expect(sortedIds((await listAll(store, base)).map((s) => s.id))).toEqual(sortedIds(created));
    });

    it("concurrent deletes of one id: exactly one returns true", async () => {
      const store = await openStore();
      const session = record();
      await createAll(store, [session]);

      const removed = await Promise.all(
        Array.from({ length: 10 }, () => store.delete(session.id, { now: Date.now() })),
      );

      expect(removed.filter(Boolean)).toHaveLength(1);
      expect(await store.get(session.id, { now: session.createdAt })).toEqual({
        status: "missing",
      });
    });

    it("concurrent touches of one session leave the fields of one of them", async () => {
      const store = await openStore();
      const base = Date.now();
      const session = record({
        createdAt: base,
        expiresAt: base + 30 * MINUTE,
        metadata: { kept: true },
      });
      await createAll(store, [session]);
      const nows = Array.from({ length: 20 }, (_, n) => base + (n + 1) * MINUTE);

      const lookups = await Promise.all(
        nows.map((now) =>
          store.touch(session.id, { now, ttl: 30 * MINUTE, maxLifetime: 5 * HOUR }),
        ),
      );

      expect(lookups).toStrictEqual(
        nows.map((now) => ({
          status: "found",
          session: { ...session, lastAccessedAt: now, expiresAt: now + 30 * MINUTE },
        })),
      );
      const final = await store.get(session.id, { now: base + 20 * MINUTE });
      expect(final.status).toBe("found");
      const stored = final.status === "found" ? final.session : session;
      expect(nows).toContain(stored.lastAccessedAt);
      expect(stored).toStrictEqual({
        ...session,
        lastAccessedAt: stored.lastAccessedAt,
        expiresAt: stored.lastAccessedAt + 30 * MINUTE,
      });
    });

    it("a delete racing a sweep: each due session is destroyed or claimed, never both", async () => {
      const store = await openStore();
      const recorder = collect(store);
      const base = Date.now();
      const sessions = Array.from({ length: 30 }, () =>
        record({ createdAt: base, expiresAt: base + HOUR }),
      );
      await createAll(store, sessions);

      const [sweep, ...removed] = await Promise.all([
        store.sweep(base + 2 * HOUR),
        ...sessions.map((session) => store.delete(session.id, { now: base })),
      ]);

      const destroyed = sessions.filter((_, n) => removed[n] === true).map((s) => s.id);
      const claimed = sessions.filter((_, n) => removed[n] === false).map((s) => s.id);
      expect(sweep.claimed).toBe(claimed.length);
      await expect.poll(() => sortedIds(recorder.expired), SIGNAL_WAIT).toEqual(sortedIds(claimed));
      for (const id of destroyed) {
        await expect.poll(() => recorder.endedReasons(id), SIGNAL_WAIT).toContain("destroyed");
      }
      expect(await store.count(base)).toBe(0);
    });

    it("concurrent creates, touches and deletes of different sessions do not interfere", async () => {
      const store = await openStore();
      const base = Date.now();
      const touchedOnes = Array.from({ length: 40 }, () => record({ createdAt: base }));
      const deletedOnes = Array.from({ length: 40 }, () => record({ createdAt: base }));
      const newOnes = Array.from({ length: 40 }, () => record({ createdAt: base }));
      await createAll(store, [...touchedOnes, ...deletedOnes]);
      const now = base + MINUTE;

      const results = await Promise.all([
        ...touchedOnes.map((s) => store.touch(s.id, { now, ttl: HOUR, maxLifetime: 2 * HOUR })),
        ...deletedOnes.map((s) => store.delete(s.id, { now: Date.now() })),
        ...newOnes.map((s) => store.create(s)),
      ]);

      expect(results).toEqual([
        ...touchedOnes.map(() => expect.objectContaining({ status: "found" })),
        ...deletedOnes.map(() => true),
        ...newOnes.map(() => "created"),
      ]);
      const listed = await listAll(store, now);
      expect(sortedIds(listed.map((s) => s.id))).toEqual(
        sortedIds([...touchedOnes, ...newOnes].map((s) => s.id)),
      );
      expect(await store.count(now)).toBe(touchedOnes.length + newOnes.length);
    });
  });
}
