import { describe, expect, it } from "vitest";
import {
  type ContractContext,
  collect,
  createAll,
  HOUR,
  listAll,
  MINUTE,
  record,
  SECOND,
  SIGNAL_WAIT,
  sortedIds,
} from "./fixtures.js";

/** How long the real-clock test waits for a backend's own expiry (Redis key expiry is lazy). */
const REAL_EXPIRY_WAIT = { timeout: 20 * SECOND, interval: 50 } as const;

/** `sweep` claims each due session exactly once and leaves everything else alone. */
export function describeExpiry({ openStore }: ContractContext): void {
  describe("sweep", () => {
    it("claims every due session once and leaves live sessions untouched", async () => {
      const store = await openStore();
      const recorder = collect(store);
      const base = Date.now();
      const now = base + 2 * HOUR;
      const due = [
        ...Array.from({ length: 5 }, (_, n) =>
          record({ createdAt: base, expiresAt: base + HOUR + n }),
        ),
        // Due exactly at `now`: expiresAt <= now is due.
        record({ createdAt: base, expiresAt: now }),
      ];
      const live = Array.from({ length: 3 }, (_, n) =>
        record({ createdAt: base, expiresAt: now + 1 + n }),
      );
      await createAll(store, [...due, ...live]);

      const result = await store.sweep(now);

      expect(result.claimed).toBe(due.length);
      // A store may not know its next deadline; when it says one, it must not oversleep the first.
      expect(result.nextDueAt ?? now + 1).toBeLessThanOrEqual(now + 1);
      await expect
        .poll(() => sortedIds(recorder.expired), SIGNAL_WAIT)
        .toEqual(sortedIds(due.map((s) => s.id)));
      for (const session of due) {
        await expect
          .poll(() => recorder.endedReasons(session.id), SIGNAL_WAIT)
          .toContain("expired");
      }
      for (const session of live) {
        expect(await store.get(session.id, { now })).toStrictEqual({ status: "found", session });
      }
      expect(await store.count(now)).toBe(live.length);
      expect(await store.sweep(now)).toMatchObject({ claimed: 0 });
      expect(recorder.expired).toHaveLength(due.length);
    });

    it("claims nothing when nothing is due", async () => {
      const store = await openStore();
      const base = Date.now();
      const session = record({ createdAt: base, expiresAt: base + HOUR });
      await createAll(store, [session]);

      expect(await store.sweep(base + HOUR - 1)).toMatchObject({ claimed: 0 });

      expect(await store.get(session.id, { now: base + HOUR - 1 })).toStrictEqual({
        status: "found",
        session,
      });
    });

    it("concurrent sweeps claim each due session exactly once", async () => {
      const store = await openStore();
      const recorder = collect(store);
      const base = Date.now();
      const due = Array.from({ length: 50 }, (_, n) =>
        record({ createdAt: base, expiresAt: base + HOUR + n }),
      );
      const live = Array.from({ length: 10 }, () =>
        record({ createdAt: base, expiresAt: base + 3 * HOUR }),
      );
      await createAll(store, [...due, ...live]);
      const now = base + 2 * HOUR;

      const results = await Promise.all(Array.from({ length: 5 }, () => store.sweep(now)));

      expect(results.reduce((sum, result) => sum + result.claimed, 0)).toBe(due.length);
      await expect
        .poll(() => sortedIds(new Set(recorder.expired)), SIGNAL_WAIT)
        .toEqual(sortedIds(due.map((s) => s.id)));
      expect(recorder.expired).toHaveLength(due.length);
      expect(await store.count(now)).toBe(live.length);
    });

    it("claims a touched session at its new deadline, not its old one", async () => {
      const store = await openStore();
      const recorder = collect(store);
      const base = Date.now();
      const kept = record({ createdAt: base, expiresAt: base + HOUR });
      const due = record({ createdAt: base, expiresAt: base + HOUR });
      await createAll(store, [kept, due]);
      const lookup = await store.touch(kept.id, {
        now: base + 50 * MINUTE,
        ttl: HOUR,
        maxLifetime: 5 * HOUR,
      });
      expect(lookup).toMatchObject({
        status: "found",
        session: { expiresAt: base + 110 * MINUTE },
      });
      const now = base + 70 * MINUTE;

      expect(await store.sweep(now)).toMatchObject({ claimed: 1 });

      await expect.poll(() => recorder.expired, SIGNAL_WAIT).toEqual([due.id]);
      expect(await store.get(kept.id, { now })).toMatchObject({ status: "found" });
      expect(await store.sweep(base + 110 * MINUTE)).toMatchObject({ claimed: 1 });
      await expect.poll(() => recorder.expired, SIGNAL_WAIT).toEqual([due.id, kept.id]);
    });

    it("claims a session at an earlier deadline a touch gave it", async () => {
      const store = await openStore();
      const recorder = collect(store);
      const base = Date.now();
      const session = record({ createdAt: base, expiresAt: base + 2 * HOUR });
      await createAll(store, [session]);
      // A shorter ttl than the one the session was created with moves the deadline earlier.
      const lookup = await store.touch(session.id, {
        now: base + 10 * MINUTE,
        ttl: 20 * MINUTE,
        maxLifetime: 5 * HOUR,
      });
      expect(lookup).toMatchObject({ status: "found", session: { expiresAt: base + 30 * MINUTE } });

      expect(await store.sweep(base + 30 * MINUTE)).toMatchObject({ claimed: 1 });

      await expect.poll(() => recorder.expired, SIGNAL_WAIT).toEqual([session.id]);
    });

    it("claims a re-created id by its new deadline, not the deleted session's", async () => {
      const store = await openStore();
      const recorder = collect(store);
      const base = Date.now();
      const first = record({ createdAt: base, expiresAt: base + HOUR });
      const second = record({ id: first.id, createdAt: base, expiresAt: base + 3 * HOUR });
      await createAll(store, [first]);
      expect(await store.delete(first.id, { now: Date.now() })).toBe(true);
      await createAll(store, [second]);

      expect(await store.sweep(base + 2 * HOUR)).toMatchObject({ claimed: 0 });
      expect(await store.get(second.id, { now: base + 2 * HOUR })).toStrictEqual({
        status: "found",
        session: second,
      });

      expect(await store.sweep(base + 3 * HOUR)).toMatchObject({ claimed: 1 });
      await expect.poll(() => recorder.expired, SIGNAL_WAIT).toEqual([second.id]);
    });

    it("does not claim a deleted session", async () => {
      const store = await openStore();
      const recorder = collect(store);
      const base = Date.now();
      const deleted = record({ createdAt: base, expiresAt: base + HOUR });
      const due = record({ createdAt: base, expiresAt: base + HOUR });
      await createAll(store, [deleted, due]);
      expect(await store.delete(deleted.id, { now: Date.now() })).toBe(true);

      expect(await store.sweep(base + 2 * HOUR)).toMatchObject({ claimed: 1 });

      await expect.poll(() => recorder.expired, SIGNAL_WAIT).toEqual([due.id]);
      expect(recorder.endedReasons(deleted.id)).not.toContain("expired");
    });

    it("frees the id of a claimed session for a new create", async () => {
      const store = await openStore();
      const recorder = collect(store);
      const base = Date.now();
      const first = record({ createdAt: base, expiresAt: base + HOUR });
      await createAll(store, [first]);
      expect(await store.sweep(base + 2 * HOUR)).toMatchObject({ claimed: 1 });
      await expect.poll(() => recorder.expired, SIGNAL_WAIT).toEqual([first.id]);
      const second = record({
        id: first.id,
        createdAt: base + 2 * HOUR,
        expiresAt: base + 3 * HOUR,
        metadata: { n: 2 },
      });

      expect(await store.create(second)).toBe("created");

      expect(await store.get(first.id, { now: base + 2 * HOUR })).toStrictEqual({
        status: "found",
        session: second,
      });
    });

    it("a touch racing a sweep either keeps the session or loses it to the claim, never both", async () => {
      const store = await openStore();
      const recorder = collect(store);
      const base = Date.now();
      const sessions = Array.from({ length: 40 }, () =>
        record({ createdAt: base, expiresAt: base + HOUR }),
      );
      await createAll(store, sessions);
      const deadline = base + HOUR;

      // Each touch comes just before the deadline and moves it an hour on; the sweep comes at it.
      const [sweep, ...lookups] = await Promise.all([
        store.sweep(deadline),
        ...sessions.map((session) =>
          store.touch(session.id, { now: deadline - 1, ttl: HOUR, maxLifetime: 5 * HOUR }),
        ),
      ]);

      const kept = sessions.filter((_, n) => lookups[n]?.status === "found").map((s) => s.id);
      const lost = sessions.filter((_, n) => lookups[n]?.status === "missing").map((s) => s.id);
      expect(kept.length + lost.length).toBe(sessions.length);
      expect(sweep.claimed).toBe(lost.length);
      await expect.poll(() => sortedIds(recorder.expired), SIGNAL_WAIT).toEqual(sortedIds(lost));
      expect(sortedIds((await listAll(store, deadline)).map((s) => s.id))).toEqual(sortedIds(kept));
    });

    it("claims a session whose deadline passed on the real clock", async () => {
      const store = await openStore();
      const recorder = collect(store);
      const base = Date.now();
      const session = record({ createdAt: base, expiresAt: base + 300 });
      await createAll(store, [session]);

      await expect
        .poll(async () => {
          await store.sweep(Date.now());
          return recorder.expired;
        }, REAL_EXPIRY_WAIT)
        .toContain(session.id);

      expect(recorder.expired).toEqual([session.id]);
      await expect.poll(() => recorder.endedReasons(session.id), SIGNAL_WAIT).toContain("expired");
      expect(await store.get(session.id, { now: Date.now() })).toEqual({ status: "missing" });
    });
  });
}
