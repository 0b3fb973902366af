import { isSessionError, type SessionManager } from "@mcp-sessions/session-core";
import { afterEach, expect, it } from "vitest";
import { spawnWithAdmin } from "../support/spawned.js";
import { outcomeOf, StoreFleet } from "../support/store-fleet.js";

// A create that times out may still run: the command sits in the frozen server's socket and
// executes when it resumes. No client got those sessions, so none may be left once Redis
// answers again: not in the count, not against maxSessions, and no expiration handler.

const COMMAND_TIMEOUT_MS = 300;
const MAX_SESSIONS = 20;
const REFUSED = 15;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function createOutcomes(sessions: SessionManager, count: number) {
  const outcomes = await Promise.all(
    Array.from({ length: count }, () => outcomeOf(sessions.create())),
  );
  return outcomes.map((outcome) => (outcome.status === "resolved" ? "created" : outcome.code));
}

it(`leaves nothing of ${REFUSED} creates refused while Redis was frozen`, async () => {
  const { server } = await spawnWithAdmin((cleanup) => cleanups.push(cleanup));
  const fleet = new StoreFleet(server.url);
  cleanups.push(() => fleet.close());
  let now = Date.now();
  const clock = { now: () => now };
  const [creator, other] = await Promise.all([
    fleet.add({
      store: { commandTimeoutMs: COMMAND_TIMEOUT_MS },
      manager: { maxSessions: MAX_SESSIONS, enabled: false, clock },
    }),
    fleet.add({ manager: { enabled: false, clock } }),
  ]);
  if (!creator || !other) throw new Error("two instances expected");

  await server.freeze();
  expect(await createOutcomes(creator.sessions, REFUSED)).toEqual(
    Array.from({ length: REFUSED }, () => "STORE_UNAVAILABLE"),
  );
  await server.thaw();

  // Once Redis answers, what those creates left behind is removed.
  await expect
    .poll(() => outcomeOf(other.sessions.getActiveSessionCount()), { timeout: 30_000 })
    .toEqual({ status: "resolved", value: 0 });
  expect(await createOutcomes(creator.sessions, MAX_SESSIONS)).toEqual(
    Array.from({ length: MAX_SESSIONS }, () => "created"),
  );
  const full = await outcomeOf(creator.sessions.create());
  expect(full.status === "rejected" && isSessionError(full.error) && full.error.code).toBe(
    "SESSION_LIMIT_REACHED",
  );

  // Past every deadline, the sweeps claim the 20 real sessions only.
  now += 2 * 86_400_000;
  await Promise.all([creator.sessions.sweepNow(), other.sessions.sweepNow()]);
  expect(fleet.handlerRunCount()).toBe(MAX_SESSIONS);
});

it("runs no handler for a discarded session whose key Redis had already expired", async () => {
  const { server } = await spawnWithAdmin((cleanup) => cleanups.push(cleanup));
  const fleet = new StoreFleet(server.url);
  cleanups.push(() => fleet.close());
  const TTL = 60_000;
  // Made with a deadline 1 ms from now in real time: Redis expires its key at once.
  let offset = 1 - TTL;
  const [instance] = await Promise.all([
    fleet.add({
      // No keyspace event may claim it first: the sweep below does, deterministically.
      store: { keyspaceEvents: "sweep-only" },
      manager: { ttl: TTL, enabled: false, clock: { now: () => Date.now() + offset } },
    }),
  ]);
  if (!instance) throw new Error("one instance expected");
  const session = await instance.sessions.create();
  offset = 0;
  await expect.poll(() => Date.now()).toBeGreaterThan(session.expiresAt);

  await instance.sessions.discard(session);
  // The due index still names it, so the sweep claims it: the claim is this instance's, and
  // no handler runs for a session nobody used.
  expect(await instance.sessions.sweepNow()).toBe(1);
  expect(instance.handled).toEqual([]);
  expect(await instance.sessions.getActiveSessionCount()).toBe(0);
});

it("stops retrying on close while Redis is still frozen, and says what may be left", async () => {
  const { server } = await spawnWithAdmin((cleanup) => cleanups.push(cleanup));
  const fleet = new StoreFleet(server.url);
  cleanups.push(() => fleet.close());
  const instance = await fleet.add({
    store: { commandTimeoutMs: COMMAND_TIMEOUT_MS },
    manager: { enabled: false },
  });

  await server.freeze();
  expect(await createOutcomes(instance.sessions, 1)).toEqual(["STORE_UNAVAILABLE"]);
  await instance.sessions.close();
  expect(instance.logs.map(({ data }) => data.message)).toContain(
    "Could not remove 1 session whose create failed; each expires at its deadline",
  );
});
