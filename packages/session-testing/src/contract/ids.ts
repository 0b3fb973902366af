import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type ContractContext, createAll, HOUR, listAll, record, sortedIds } from "./fixtures.js";

/** Every visible ASCII character (0x21–0x7E): the whole MCP session id alphabet. */
const VISIBLE_ASCII = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) =>
  String.fromCharCode(0x21 + i),
).join("");

/** Ids are stored literally: no character is a pattern, an escape or a key separator. */
export function describeIds({ openStore }: ContractContext): void {
  describe("ids", () => {
    it("ids with glob characters match only themselves in get and delete", async () => {
      const store = await openStore();
      const now = Date.now();
      const prefix = `${randomUUID()}-`;
      const plain = record({ id: `${prefix}ab`, createdAt: now });
      const star = record({ id: `${prefix}a*`, createdAt: now });
      await createAll(store, [plain, star]);
      // Each of these, read as a glob, a regex or a brace expansion, matches `ab` or `a*`.
      const lookalikes = [
        "a?",
        "a[b]",
        "a[a-z]",
        "a\\b",
        "*",
        "?b",
        "a{b,c}",
        "a.",
        "a.*",
        "a%",
        "a_",
      ];

      for (const suffix of lookalikes) {
        expect(await store.get(`${prefix}${suffix}`, { now })).toEqual({ status: "missing" });
        expect(await store.delete(`${prefix}${suffix}`, { now })).toBe(false);
      }
      expect(await store.get(star.id, { now })).toStrictEqual({ status: "found", session: star });

      expect(await store.delete(star.id, { now: Date.now() })).toBe(true);

      expect(await store.get(plain.id, { now })).toStrictEqual({ status: "found", session: plain });
      expect(await store.get(star.id, { now })).toEqual({ status: "missing" });
      expect(await store.count(now)).toBe(1);
    });

    it("ids that differ by case, a separator or a suffix are distinct sessions", async () => {
      const store = await openStore();
      const now = Date.now();
      const base = randomUUID();
      const ids = [
        base,
        base.toUpperCase(),
        `${base}:`,
        `${base}:meta`,
        `${base}:{x}`,
        `{${base}}`,
        `${base}\\`,
        `${base}]`,
      ];
      const sessions = ids.map((id, n) => record({ id, createdAt: now, metadata: { n } }));
      await createAll(store, sessions);

      for (const session of sessions) {
        expect(await store.get(session.id, { now })).toStrictEqual({ status: "found", session });
      }
      expect(await store.delete(base, { now: Date.now() })).toBe(true);

      for (const session of sessions.slice(1)) {
        expect(await store.get(session.id, { now })).toStrictEqual({ status: "found", session });
      }
      expect(sortedIds((await listAll(store, now)).map((s) => s.id))).toEqual(
        sortedIds(ids.slice(1)),
      );
    });

    it("round-trips a 256-character id made of every visible ASCII character", async () => {
      const store = await openStore();
      const now = Date.now();
      const id = `${randomUUID()}${VISIBLE_ASCII}`.padEnd(256, "~");
      expect(id).toHaveLength(256);
      const session = record({ id, createdAt: now, expiresAt: now + HOUR });
      await createAll(store, [session]);

      expect(await store.get(id, { now })).toStrictEqual({ status: "found", session });
      const lookup = await store.touch(id, { now: now + 1, ttl: HOUR, maxLifetime: 2 * HOUR });
      expect(lookup).toMatchObject({ status: "found", session: { id, lastAccessedAt: now + 1 } });
      expect((await listAll(store, now + 1)).map((s) => s.id)).toEqual([id]);
      expect(await store.delete(id, { now: Date.now() })).toBe(true);
      expect(await store.get(id, { now: now + 1 })).toEqual({ status: "missing" });
    });
  });
}
