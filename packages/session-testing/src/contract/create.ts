import { describe, expect, it } from "vitest";
import {
  type ContractContext,
  collect,
  createAll,
  HOUR,
  MINUTE,
  record,
  SIGNAL_WAIT,
} from "./fixtures.js";

/** Create is insert-if-absent, and `maxSessions` counts live sessions only. */
export function describeCreate({ openStore }: ContractContext): void {
  describe("create", () => {
    it("says whether other processes see its sessions", async () => {
      const store = await openStore();
      expect(typeof store.shared).toBe("boolean");
    });

    it("returns created for a new id and stores the record as given", async () => {
      const store = await openStore();
      const session = record({ owner: "user-1", metadata: { plan: "pro" } });

      expect(await store.create(session)).toBe("created");

      expect(await store.get(session.id, { now: session.createdAt })).toStrictEqual({
        status: "found",
        session,
      });
    });

    it("stores a record without owner or metadata with no extra fields", async () => {
      const store = await openStore();
      const session = record();

      expect(await store.create(session)).toBe("created");

      expect(await store.get(session.id, { now: session.createdAt })).toStrictEqual({
        status: "found",
        session: {
          id: session.id,
          createdAt: session.createdAt,
          lastAccessedAt: session.lastAccessedAt,
          expiresAt: session.expiresAt,
        },
      });
    });

    it("returns exists for a stored id and keeps the first record and its deadline", async () => {
      const store = await openStore();
      const recorder = collect(store);
      const base = Date.now();
      const first = record({ createdAt: base, owner: "user-1", metadata: { n: 1 } });
      const second = {
        id: first.id,
        createdAt: base + MINUTE,
        lastAccessedAt: base + MINUTE,
        expiresAt: base + 3 * HOUR,
        owner: "user-2",
        metadata: { n: 2 },
      };
      await createAll(store, [first]);

      expect(await store.create(second)).toBe("exists");

      expect(await store.get(first.id, { now: base + MINUTE })).toStrictEqual({
        status: "found",
        session: first,
      });
      // The refused create must not have moved the deadline either: the first one still holds.
      expect(await store.sweep(base + 2 * HOUR)).toMatchObject({ claimed: 1 });
      await expect.poll(() => recorder.expired, SIGNAL_WAIT).toEqual([first.id]);
    });

    it("returns full once maxSessions live sessions exist, and stores nothing", async () => {
      const store = await openStore();
      const base = Date.now();
      const first = record({ createdAt: base });
      const second = record({ createdAt: base });
      const refused = record({ createdAt: base });

      expect(await store.create(first, { maxSessions: 2 })).toBe("created");
      expect(await store.create(second, { maxSessions: 2 })).toBe("created");
      expect(await store.create(refused, { maxSessions: 2 })).toBe("full");

      expect(await store.get(refused.id, { now: base })).toEqual({ status: "missing" });
      expect(await store.count(base)).toBe(2);
      expect(await store.create(record({ createdAt: base }), { maxSessions: 3 })).toBe("created");
    });

    it("does not count sessions whose deadline passed toward maxSessions", async () => {
      const store = await openStore();
      const base = Date.now();
      // Already due when created, by the real clock too: whatever clock the store reads for
      // "live", these two are not live.
      const expired = [
        record({ createdAt: base - 2 * HOUR, expiresAt: base - HOUR }),
        record({ createdAt: base - 2 * HOUR, expiresAt: base - HOUR }),
      ];
      await createAll(store, expired);
      const live = record({ createdAt: base });

      expect(await store.create(live, { maxSessions: 1 })).toBe("created");
      expect(await store.create(record({ createdAt: base }), { maxSessions: 1 })).toBe("full");
    });

    it("has room again after a delete", async () => {
      const store = await openStore();
      const base = Date.now();
      const first = record({ createdAt: base });
      const second = record({ createdAt: base });
      expect(await store.create(first, { maxSessions: 1 })).toBe("created");
      expect(await store.create(second, { maxSessions: 1 })).toBe("full");

      expect(await store.delete(first.id, { now: Date.now() })).toBe(true);

      expect(await store.create(second, { maxSessions: 1 })).toBe("created");
      expect(await store.get(second.id, { now: base })).toStrictEqual({
        status: "found",
        session: second,
      });
    });
  });
}
