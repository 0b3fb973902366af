import { describe, expect, it } from "vitest";
import { type ContractContext, createAll, HOUR, MINUTE, record, uniqueId } from "./fixtures.js";

const OWNER = "alicé@example.com";

/** Owners that must not match `OWNER`: other users, case, padding, prefixes, Unicode forms. */
const OTHER_OWNERS = [
  "bob@example.com",
  "ALICÉ@example.com",
  "alicé@example.com ",
  "alicé@example",
  "alicé@example.comx",
  // The same text in Unicode NFD: owners compare exactly, they are not normalised.
  "alice\u0301@example.com",
  "",
];

/** Owner binding: another owner's session looks foreign, and touching it changes nothing. */
export function describeOwner({ openStore }: ContractContext): void {
  describe("owner", () => {
    it("get and touch without the owner option find an owned session", async () => {
      const store = await openStore();
      const base = Date.now();
      const session = record({ createdAt: base, owner: OWNER });
      await createAll(store, [session]);

      expect(await store.get(session.id, { now: base })).toStrictEqual({
        status: "found",
        session,
      });
      const lookup = await store.touch(session.id, {
        now: base + MINUTE,
        ttl: HOUR,
        maxLifetime: 2 * HOUR,
      });
      expect(lookup).toMatchObject({
        status: "found",
        session: { owner: OWNER, lastAccessedAt: base + MINUTE },
      });
    });

    it("get and touch with the stored owner find the session", async () => {
      const store = await openStore();
      const base = Date.now();
      const session = record({ createdAt: base, owner: OWNER });
      await createAll(store, [session]);

      expect(await store.get(session.id, { now: base, owner: OWNER })).toStrictEqual({
        status: "found",
        session,
      });
      const lookup = await store.touch(session.id, {
        now: base + MINUTE,
        owner: OWNER,
        ttl: HOUR,
        maxLifetime: 2 * HOUR,
      });
      expect(lookup).toMatchObject({
        status: "found",
        session: { owner: OWNER, lastAccessedAt: base + MINUTE },
      });
    });

    it("another owner gets foreign from get and touch, and the record stays unchanged", async () => {
      const store = await openStore();
      const base = Date.now();
      const session = record({ createdAt: base, owner: OWNER });
      await createAll(store, [session]);

      for (const owner of OTHER_OWNERS) {
        expect(await store.get(session.id, { now: base, owner })).toEqual({ status: "foreign" });
        const lookup = await store.touch(session.id, {
          now: base + MINUTE,
          owner,
          ttl: 3 * HOUR,
          maxLifetime: 5 * HOUR,
        });
        expect(lookup).toEqual({ status: "foreign" });
      }

      expect(await store.get(session.id, { now: base + MINUTE })).toStrictEqual({
        status: "found",
        session,
      });
    });

    it("a session without an owner is foreign to any owner given", async () => {
      const store = await openStore();
      const base = Date.now();
      const session = record({ createdAt: base });
      await createAll(store, [session]);

      expect(await store.get(session.id, { now: base, owner: OWNER })).toEqual({
        status: "foreign",
      });
      const lookup = await store.touch(session.id, {
        now: base + MINUTE,
        owner: OWNER,
        ttl: 3 * HOUR,
        maxLifetime: 5 * HOUR,
      });
      expect(lookup).toEqual({ status: "foreign" });
      expect(await store.get(session.id, { now: base + MINUTE })).toStrictEqual({
        status: "found",
        session,
      });
    });

    it("an expired session is missing, not foreign, to another owner", async () => {
      const store = await openStore();
      const base = Date.now();
      const session = record({ createdAt: base, expiresAt: base + HOUR, owner: OWNER });
      await createAll(store, [session]);
      const late = base + 2 * HOUR;

      expect(await store.get(session.id, { now: late, owner: "bob" })).toEqual({
        status: "missing",
      });
      const lookup = await store.touch(session.id, {
        now: late,
        owner: "bob",
        ttl: HOUR,
        maxLifetime: 5 * HOUR,
      });
      expect(lookup).toEqual({ status: "missing" });
    });

    it("an unknown id is missing, not foreign, to any owner", async () => {
      const store = await openStore();
      const now = Date.now();
      const id = uniqueId();

      expect(await store.get(id, { now, owner: OWNER })).toEqual({ status: "missing" });
      const lookup = await store.touch(id, { now, owner: OWNER, ttl: HOUR, maxLifetime: 2 * HOUR });
      expect(lookup).toEqual({ status: "missing" });
    });
  });
}
