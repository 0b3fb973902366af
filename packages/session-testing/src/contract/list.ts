import type { SessionRecord } from "@mcp-sessions/session-core";
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
  touched,
} from "./fixtures.js";

/** Enough sessions that a backend listing page by page (SCAN, ZRANGE batches) needs several pages. */
const MANY = 300;

/** `count`, `list` and `clear` see live sessions only, each once. */
export function describeList({ openStore }: ContractContext): void {
  describe("count, list and clear", () => {
    it("count and list of an empty store are zero and empty", async () => {
      const store = await openStore();
      const now = Date.now();

      expect(await store.count(now)).toBe(0);
      expect(await listAll(store, now)).toEqual([]);
    });

    it("count includes only sessions live at now", async () => {
      const store = await openStore();
      const base = Date.now();
      const early = Array.from({ length: 3 }, () =>
        record({ createdAt: base, expiresAt: base + HOUR }),
      );
      const late = Array.from({ length: 2 }, () =>
        record({ createdAt: base, expiresAt: base + 3 * HOUR }),
      );
      await createAll(store, [...early, ...late]);

      expect(await store.count(base)).toBe(5);
      expect(await store.count(base + HOUR - 1)).toBe(5);
      expect(await store.count(base + HOUR)).toBe(2);
      expect(await store.count(base + 3 * HOUR)).toBe(0);
    });

    it(`list yields each of ${MANY} live sessions exactly once and skips expired ones`, async () => {
      const store = await openStore();
      const base = Date.now();
      const live = Array.from({ length: MANY }, (_, n) =>
        record({ createdAt: base, expiresAt: base + 2 * HOUR + n, metadata: { n } }),
      );
      const expired = Array.from({ length: 30 }, () =>
        record({ createdAt: base, expiresAt: base + HOUR }),
      );
      await createAll(store, [...live, ...expired]);
      const now = base + HOUR;

      const listed = await listAll(store, now);

      expect(sortedIds(listed.map((session) => session.id))).toEqual(
        sortedIds(live.map((s) => s.id)),
      );
      expect(byId(listed)).toStrictEqual(byId(live));
      expect(await store.count(now)).toBe(MANY);
    });

    it("list yields records as last touched", async () => {
      const store = await openStore();
      const base = Date.now();
      const sessions = Array.from({ length: 4 }, () =>
        record({ createdAt: base, expiresAt: base + HOUR }),
      );
      await createAll(store, sessions);
      const now = base + 10 * MINUTE;
      const expected = sessions.map((session, n) =>
        n % 2 === 0 ? touched(session, now, 2 * HOUR, 3 * HOUR) : session,
      );
      for (const [n, session] of sessions.entries()) {
        if (n % 2 === 0)
          await store.touch(session.id, { now, ttl: 2 * HOUR, maxLifetime: 3 * HOUR });
      }

      expect(byId(await listAll(store, now))).toStrictEqual(byId(expected));
      // Past the untouched deadlines, only the touched sessions are live.
      expect(sortedIds((await listAll(store, base + HOUR)).map((s) => s.id))).toEqual(
        sortedIds(expected.filter((_, n) => n % 2 === 0).map((s) => s.id)),
      );
    });

    it("clear removes every session and returns how many", async () => {
      const store = await openStore();
      const base = Date.now();
      const sessions = Array.from({ length: 5 }, () => record({ createdAt: base }));
      await createAll(store, sessions);

      expect(await store.clear()).toBe(5);

      expect(await store.count(base)).toBe(0);
      expect(await listAll(store, base)).toEqual([]);
      for (const session of sessions) {
        expect(await store.get(session.id, { now: base })).toEqual({ status: "missing" });
      }
      expect(await store.clear()).toBe(0);
      // The ids are free again.
      await createAll(store, sessions);
    });

    it("clear leaves nothing for a later sweep to claim", async () => {
      const store = await openStore();
      const recorder = collect(store);
      const base = Date.now();
      const cleared = Array.from({ length: 5 }, () =>
        record({ createdAt: base, expiresAt: base + HOUR }),
      );
      await createAll(store, cleared);
      expect(await store.clear()).toBe(5);
      const later = record({ createdAt: base, expiresAt: base + HOUR });
      await createAll(store, [later]);

      expect(await store.sweep(base + 2 * HOUR)).toMatchObject({ claimed: 1 });

      await expect.poll(() => recorder.expired, SIGNAL_WAIT).toEqual([later.id]);
    });
  });
}

function byId(sessions: readonly SessionRecord[]): Map<string, SessionRecord> {
  return new Map(sessions.map((session) => [session.id, session]));
}
