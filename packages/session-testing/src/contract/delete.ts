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
  uniqueId,
} from "./fixtures.js";

/**
 * `delete` removes a live session, once. With `now`, a session past its deadline has expired
 * and is left for the sweep to claim. Its `ended("destroyed")` signal is in subscription.ts.
 */
export function describeDelete({ openStore }: ContractContext): void {
  describe("delete", () => {
    it("returns true once, then false, and the session is gone", async () => {
      const store = await openStore();
      const base = Date.now();
      const session = record({ createdAt: base });
      const other = record({ createdAt: base });
      await createAll(store, [session, other]);

      expect(await store.delete(session.id, { now: Date.now() })).toBe(true);
      expect(await store.delete(session.id, { now: Date.now() })).toBe(false);

      expect(await store.get(session.id, { now: base })).toEqual({ status: "missing" });
      const lookup = await store.touch(session.id, { now: base, ttl: HOUR, maxLifetime: 2 * HOUR });
      expect(lookup).toEqual({ status: "missing" });
      expect(await listAll(store, base)).toStrictEqual([other]);
    });

    it("returns false for an unknown id", async () => {
      const store = await openStore();

      expect(await store.delete(uniqueId(), { now: Date.now() })).toBe(false);
      expect(await store.delete(uniqueId(), { now: Date.now() })).toBe(false);
    });

    it("with now before the deadline, removes the session and nothing is left to claim", async () => {
      const store = await openStore();
      const recorder = collect(store);
      const base = Date.now();
      const session = record({ createdAt: base, expiresAt: base + HOUR });
      const due = record({ createdAt: base, expiresAt: base + HOUR });
      await createAll(store, [session, due]);

      expect(await store.delete(session.id, { now: base + HOUR - 1 })).toBe(true);

      expect(await store.get(session.id, { now: base + HOUR - 1 })).toEqual({ status: "missing" });
      expect(await store.sweep(base + 2 * HOUR)).toMatchObject({ claimed: 1 });
      await expect.poll(() => recorder.expired, SIGNAL_WAIT).toEqual([due.id]);
    });

    it("with now at or past the deadline, returns false and leaves the session for the sweep", async () => {
      const store = await openStore();
      const recorder = collect(store);
      const base = Date.now();
      const atDeadline = record({ createdAt: base, expiresAt: base + HOUR });
      const pastDeadline = record({ createdAt: base, expiresAt: base + HOUR - MINUTE });
      await createAll(store, [atDeadline, pastDeadline]);
      const now = base + HOUR;

      expect(await store.delete(atDeadline.id, { now })).toBe(false);
      expect(await store.delete(pastDeadline.id, { now })).toBe(false);

      // It expired rather than being destroyed: the sweep claims it and the handler runs.
      expect(await store.sweep(now)).toMatchObject({ claimed: 2 });
      const expired = sortedIds([atDeadline.id, pastDeadline.id]);
      await expect.poll(() => sortedIds(recorder.expired), SIGNAL_WAIT).toEqual(expired);
      for (const id of expired) {
        await expect.poll(() => recorder.endedReasons(id), SIGNAL_WAIT).toContain("expired");
        expect(recorder.endedReasons(id)).not.toContain("destroyed");
      }
    });
  });
}
