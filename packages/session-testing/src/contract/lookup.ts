import type { SessionMetadata } from "@mcp-sessions/session-core";
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
  touched,
  uniqueId,
} from "./fixtures.js";

/** Metadata that a lossy serialisation or a naive object merge would get wrong. */
const AWKWARD_METADATA: SessionMetadata = {
  plan: "pro",
  constructor: "not the Object constructor",
  toString: { nested: true },
  text: 'héllo wörld, 世界, 🦄, \u2028 and "quotes" \\ back',
  numbers: [0, 1, -1, 2.5, 1e21, Number.MAX_SAFE_INTEGER],
  flags: [true, false, null],
  empty: {},
  emptyList: [],
  deep: { a: { b: { c: { d: ["e", { f: "g" }] } } } },
};

/** `get` and `touch`: exact records, deadlines that move, and "expired means gone". */
export function describeLookup({ openStore }: ContractContext): void {
  describe("get and touch", () => {
    it("get returns the exact record created, nested metadata included", async () => {
      const store = await openStore();
      const session = record({ owner: "user-ü-42", metadata: AWKWARD_METADATA });
      await createAll(store, [session]);

      const lookup = await store.get(session.id, { now: session.createdAt });

      expect(lookup).toStrictEqual({ status: "found", session });
    });

    it("get does not change the record or its deadline", async () => {
      const store = await openStore();
      const recorder = collect(store);
      const base = Date.now();
      const session = record({ createdAt: base, expiresAt: base + HOUR });
      await createAll(store, [session]);

      for (const now of [base, base + MINUTE, base + HOUR - 1]) {
        expect(await store.get(session.id, { now })).toStrictEqual({ status: "found", session });
      }

      expect(await store.sweep(base + HOUR)).toMatchObject({ claimed: 1 });
      await expect.poll(() => recorder.expired, SIGNAL_WAIT).toEqual([session.id]);
    });

    it("get of an unknown id is missing", async () => {
      const store = await openStore();

      expect(await store.get(uniqueId(), { now: Date.now() })).toEqual({ status: "missing" });
    });

    it("touch sets lastAccessedAt to now, moves the deadline by ttl and returns the record", async () => {
      const store = await openStore();
      const base = Date.now();
      const session = record({
        createdAt: base,
        expiresAt: base + 30 * MINUTE,
        metadata: { a: 1 },
      });
      await createAll(store, [session]);
      const now = base + 10 * MINUTE;
      const expected = touched(session, now, 30 * MINUTE, 2 * HOUR);
      expect(expected.expiresAt).toBe(base + 40 * MINUTE);

      const lookup = await store.touch(session.id, {
        now,
        ttl: 30 * MINUTE,
        maxLifetime: 2 * HOUR,
      });

      expect(lookup).toStrictEqual({ status: "found", session: expected });
      // Past the old deadline, before the new one: only a moved deadline keeps it alive.
      expect(await store.get(session.id, { now: base + 35 * MINUTE })).toStrictEqual({
        status: "found",
        session: expected,
      });
    });

    it("touch caps the deadline at createdAt + maxLifetime", async () => {
      const store = await openStore();
      const base = Date.now();
      const session = record({ createdAt: base, expiresAt: base + 30 * MINUTE });
      await createAll(store, [session]);
      const now = base + 25 * MINUTE;

      const lookup = await store.touch(session.id, {
        now,
        ttl: 30 * MINUTE,
        maxLifetime: HOUR - 10 * MINUTE,
      });

      const expected = { ...session, lastAccessedAt: now, expiresAt: base + 50 * MINUTE };
      expect(lookup).toStrictEqual({ status: "found", session: expected });
      expect(await store.get(session.id, { now: base + 50 * MINUTE - 1 })).toStrictEqual({
        status: "found",
        session: expected,
      });
      expect(await store.get(session.id, { now: base + 50 * MINUTE })).toEqual({
        status: "missing",
      });
    });

    it("touch of an unknown id is missing and creates nothing", async () => {
      const store = await openStore();
      const base = Date.now();
      const id = uniqueId();

      const lookup = await store.touch(id, { now: base, ttl: HOUR, maxLifetime: 2 * HOUR });

      expect(lookup).toEqual({ status: "missing" });
      expect(await store.get(id, { now: base })).toEqual({ status: "missing" });
      expect(await store.count(base)).toBe(0);
      expect(await listAll(store, base)).toEqual([]);
    });

    it("get and touch find a session until now reaches expiresAt, before any sweep", async () => {
      const store = await openStore();
      const base = Date.now();
      const session = record({ createdAt: base, expiresAt: base + HOUR });
      await createAll(store, [session]);

      expect(await store.get(session.id, { now: base + HOUR - 1 })).toMatchObject({
        status: "found",
      });
      expect(await store.get(session.id, { now: base + HOUR })).toEqual({ status: "missing" });
      const lookup = await store.touch(session.id, {
        now: base + HOUR,
        ttl: HOUR,
        maxLifetime: 3 * HOUR,
      });
      expect(lookup).toEqual({ status: "missing" });
    });

    it("touch never revives an expired session", async () => {
      const store = await openStore();
      const recorder = collect(store);
      const base = Date.now();
      const session = record({ createdAt: base, expiresAt: base + HOUR });
      await createAll(store, [session]);
      const late = base + 2 * HOUR;

      const lookup = await store.touch(session.id, { now: late, ttl: HOUR, maxLifetime: 5 * HOUR });

      expect(lookup).toEqual({ status: "missing" });
      // Had the touch revived it, the deadline would be `late + HOUR` and these would find it.
      expect(await store.get(session.id, { now: late + 1 })).toEqual({ status: "missing" });
      expect(await store.count(late + 1)).toBe(0);
      // Its expiry is still due: the claim must come, exactly once.
      await store.sweep(late + 1);
      await expect.poll(() => recorder.expired, SIGNAL_WAIT).toEqual([session.id]);
    });
  });
}
