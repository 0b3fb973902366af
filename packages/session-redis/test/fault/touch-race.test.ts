import { type SessionRecord, SYSTEM_CLOCK } from "@mcp-sessions/session-core";
import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeDueSoon, OffsetClock } from "../support/clock.js";
import {
  notExactlyOnce,
  StoreFleet,
  sessionKeysUnder,
  unclaimedCount,
} from "../support/store-fleet.js";

const WAIT = { timeout: 20_000, interval: 20 } as const;
const HOUR = 3_600_000;

let server: SpawnedRedis;
let admin: Redis;
const fleets: StoreFleet[] = [];

beforeAll(async () => {
  server = await spawnRedisServer();
  admin = new Redis(server.url);
});
afterEach(async () => {
  await Promise.all(fleets.splice(0).map((fleet) => fleet.close()));
});
afterAll(async () => {
  admin.disconnect();
  await server.stop();
});

function fleet(): StoreFleet {
  const created = new StoreFleet(server.url);
  fleets.push(created);
  return created;
}

interface RacedTouch {
  readonly id: string;
  /** The session's deadline before the touch. */
  readonly deadline: number;
  /** `Date.now()` just before the touch was called: the touching manager's "now" is no earlier. */
  readonly startedAt: number;
  readonly result: SessionRecord | undefined;
}

/** Calls `touch` for each session at its deadline plus `offset(index)` ms, all at once. */
function touchAround(
  sessions: readonly SessionRecord[],
  offset: (index: number) => number,
  touch: (id: string) => Promise<SessionRecord | undefined>,
): Promise<RacedTouch[]> {
  return Promise.all(
    sessions.map(
      (session, index) =>
        new Promise<RacedTouch>((resolve, reject) => {
          setTimeout(
            () => {
              const startedAt = Date.now();
              touch(session.id).then(
                (result) =>
                  resolve({ id: session.id, deadline: session.expiresAt, startedAt, result }),
                reject,
              );
            },
            Math.max(0, session.expiresAt + offset(index) - Date.now()),
          );
        }),
    ),
  );
}

/** Ids among `ids` that still have a session hash. */
async function presentKeys(prefix: string, ids: readonly string[]): Promise<string[]> {
  const wanted = new Set(ids);
  return (await sessionKeysUnder(admin, prefix))
    .map((key) => key.slice(key.indexOf("}:s:") + 4))
    .filter((id) => wanted.has(id));
}

describe("a touch racing expiry on another instance", () => {
  it("revives only sessions touched before their deadline; a later touch finds nothing and writes nothing", async () => {
    const shared = fleet();
    // Sweeps every 20 ms on both instances, and claims on expired-key events, race the touches.
    // A touch that wins gives b's ttl more. The sessions are made under an hour's ttl, then all
    // made due shortly ahead, so that however long making them took, the touches come on time.
    const clock = new OffsetClock();
    const a = await shared.add({ manager: { ttl: HOUR, cleanupInterval: 20, clock } });
    const creating = Date.now();
    const ids = (await Promise.all(Array.from({ length: 200 }, () => a.sessions.create()))).map(
      (session) => session.id,
    );
    // A revived session lives on for b's ttl: long beside what the creates took, so the checks
    // right after the touches run well before it, and short enough to wait out at the end.
    const reviveTtl = Math.max(300, 10 * (Date.now() - creating));
    const b = await shared.add({ manager: { ttl: reviveTtl, cleanupInterval: 20 } });
    const created = await makeDueSoon(a.sessions, clock, ids);

    // One touch per session, from the other instance, between 20 ms before and 20 ms after.
    const touches = await touchAround(
      created,
      (index) => (index % 41) - 20,
      (id) => b.sessions.touch(id),
    );

    const late = touches.filter((touch) => touch.startedAt >= touch.deadline);
    expect(late.length).toBeGreaterThan(0);
    expect(late.filter((touch) => touch.result !== undefined)).toEqual([]);
    for (const touch of touches.filter((touch) => touch.result !== undefined)) {
      expect(touch.result?.expiresAt).toBeGreaterThan(touch.deadline);
    }
    // Right after the last touch, no session that was not revived has a hash again.
    const notRevived = touches
      .filter((touch) => touch.result === undefined)
      .map((touch) => touch.id);
    expect(await presentKeys(shared.prefix, notRevived)).toEqual([]);
    for (const id of notRevived.slice(0, 20)) {
      expect(await a.sessions.touch(id)).toBeUndefined();
      expect(await b.sessions.get(id)).toBeUndefined();
    }
    expect(await presentKeys(shared.prefix, notRevived)).toEqual([]);

    // Revived or not, every session expires in the end, with its handler run once.
    await expect.poll(() => unclaimedCount(admin, shared.prefix), WAIT).toBe(0);
    // A claimer runs the handler once the claim's reply reaches it, which can be after Redis
    // answered the count above.
    await expect.poll(() => shared.handlerRunCount(), WAIT).toBeGreaterThanOrEqual(ids.length);
    expect(notExactlyOnce(ids, shared.handlerRuns())).toEqual([]);
    expect(await sessionKeysUnder(admin, shared.prefix)).toEqual([]);
  });

  it("never revives a session whose deadline passed, even for an instance whose clock lags", async () => {
    const shared = fleet();
    const a = await shared.add({ manager: { ttl: 300, cleanupInterval: 50 } });
    // This instance's clock is a second behind: to it, every session below is still live.
    const lagging = { now: () => SYSTEM_CLOCK.now() - 1_000 };
    const b = await shared.add({ manager: { ttl: 300, enabled: false, clock: lagging } });
    const created = await Promise.all(Array.from({ length: 100 }, () => a.sessions.create()));

    const touches = await touchAround(
      created,
      (index) => 1 + (index % 30),
      (id) => b.sessions.touch(id),
    );

    const late = touches.filter((touch) => touch.startedAt > touch.deadline);
    expect(late.length).toBeGreaterThan(touches.length / 2);
    expect(late.filter((touch) => touch.result !== undefined)).toEqual([]);
    const ids = late.map((touch) => touch.id);
    expect(await presentKeys(shared.prefix, ids)).toEqual([]);
    for (const id of ids.slice(0, 20)) expect(await b.sessions.get(id)).toBeUndefined();

    await expect.poll(() => unclaimedCount(admin, shared.prefix), WAIT).toBe(0);
    await expect.poll(() => shared.handlerRunCount(), WAIT).toBeGreaterThanOrEqual(created.length);
    expect(
      notExactlyOnce(
        created.map((session) => session.id),
        shared.handlerRuns(),
      ),
    ).toEqual([]);
    expect(await presentKeys(shared.prefix, ids)).toEqual([]);
  });
});
