import { describe, expect, it } from "vitest";
import { type ContractContext, collect, createAll, HOUR, record, SIGNAL_WAIT } from "./fixtures.js";

/** Subscriptions: expiry claims, ended signals with their reason, and unsubscribe. */
export function describeSubscription({ openStore }: ContractContext): void {
  describe("subscribe", () => {
    it("delivers expired and ended('expired') for a claimed session to every subscriber", async () => {
      const store = await openStore();
      const first = collect(store);
      const second = collect(store);
      const base = Date.now();
      const session = record({ createdAt: base, expiresAt: base + HOUR });
      await createAll(store, [session]);

      expect(await store.sweep(base + 2 * HOUR)).toMatchObject({ claimed: 1 });

      for (const recorder of [first, second]) {
        await expect.poll(() => recorder.expired, SIGNAL_WAIT).toEqual([session.id]);
        await expect
          .poll(() => recorder.endedReasons(session.id), SIGNAL_WAIT)
          .toContain("expired");
        expect(recorder.endedReasons(session.id)).not.toContain("destroyed");
      }
    });

    it("delivers ended('destroyed') for a deleted session, and no expiry claim", async () => {
      const store = await openStore();
      const recorder = collect(store);
      const session = record();
      await createAll(store, [session]);

      expect(await store.delete(session.id, { now: Date.now() })).toBe(true);

      await expect
        .poll(() => recorder.endedReasons(session.id), SIGNAL_WAIT)
        .toContain("destroyed");
      expect(recorder.endedReasons(session.id)).not.toContain("expired");
      expect(recorder.expired).toEqual([]);
    });

    it("stops delivery to a subscriber after it unsubscribes", async () => {
      const store = await openStore();
      const gone = collect(store);
      const staying = collect(store);
      const base = Date.now();
      const deleted = record({ createdAt: base });
      const expired = record({ createdAt: base, expiresAt: base + HOUR });
      await createAll(store, [deleted, expired]);

      gone.unsubscribe();
      expect(await store.delete(deleted.id, { now: Date.now() })).toBe(true);
      expect(await store.sweep(base + 2 * HOUR)).toMatchObject({ claimed: 1 });

      // Once the remaining subscriber has both signals, the other one would have them too.
      await expect.poll(() => staying.endedReasons(deleted.id), SIGNAL_WAIT).toContain("destroyed");
      await expect.poll(() => staying.expired, SIGNAL_WAIT).toEqual([expired.id]);
      await expect.poll(() => staying.endedReasons(expired.id), SIGNAL_WAIT).toContain("expired");
      expect(gone.expired).toEqual([]);
      expect(gone.ended).toEqual([]);
    });

    it("calling unsubscribe twice is harmless to other subscribers", async () => {
      const store = await openStore();
      const gone = collect(store);
      const first = collect(store);
      const last = collect(store);
      const session = record();
      await createAll(store, [session]);

      gone.unsubscribe();
      gone.unsubscribe();
      expect(await store.delete(session.id, { now: Date.now() })).toBe(true);

      await expect.poll(() => first.endedReasons(session.id), SIGNAL_WAIT).toContain("destroyed");
      await expect.poll(() => last.endedReasons(session.id), SIGNAL_WAIT).toContain("destroyed");
      expect(gone.ended).toEqual([]);
    });
  });
}
