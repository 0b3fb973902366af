import { isSessionError, type SessionRecord, type SessionStore } from "@mcp-sessions/session-core";
import { describe, expect, it } from "vitest";
import {
  type ContractContext,
  createAll,
  expectStoreClosed,
  HOUR,
  listAll,
  record,
} from "./fixtures.js";

/** Every method but `subscribe`, each called on `session` the way the manager calls it. */
const CALLS: Record<string, (store: SessionStore, session: SessionRecord) => Promise<unknown>> = {
  create: (store, { createdAt }) => store.create(record({ createdAt })),
  get: (store, { id, createdAt }) => store.get(id, { now: createdAt }),
  touch: (store, { id, createdAt }) =>
    store.touch(id, { now: createdAt, ttl: HOUR, maxLifetime: 2 * HOUR }),
  delete: (store, { id, createdAt }) => store.delete(id, { now: createdAt }),
  count: (store, { createdAt }) => store.count(createdAt),
  list: (store, { createdAt }) => listAll(store, createdAt),
  clear: (store) => store.clear(),
  sweep: (store, { createdAt }) => store.sweep(createdAt),
};

/** `close` is idempotent, and a closed store refuses work with `STORE_CLOSED`. */
export function describeClose({ openStore }: ContractContext): void {
  describe("close", () => {
    it("resolves when called twice, in turn or at once", async () => {
      const store = await openStore();
      await createAll(store, [record()]);

      await expect(Promise.all([store.close(), store.close()])).resolves.toEqual([
        undefined,
        undefined,
      ]);
      await expect(store.close()).resolves.toBeUndefined();
    });

    for (const [method, call] of Object.entries(CALLS)) {
      it(`${method} rejects with STORE_CLOSED after close`, async () => {
        const store = await openStore();
        const session = record();
        await createAll(store, [session]);
        await store.close();

        await expectStoreClosed(() => call(store, session));
      });
    }

    it("calls in flight when close starts settle: they finish, or reject with STORE_CLOSED", async () => {
      const store = await openStore();
      const session = record();
      await createAll(store, [session]);

      const inFlight = Object.values(CALLS).map((call) =>
        call(store, session).then(
          () => "settled",
          (error: unknown) => (isSessionError(error) ? error.code : error),
        ),
      );
      await store.close();

      for (const outcome of await Promise.all(inFlight)) {
        expect(["settled", "STORE_CLOSED"]).toContain(outcome);
      }
    });
  });
}
