import { setTimeout as delay } from "node:timers/promises";
import type { SessionRecord } from "@mcp-sessions/session-core";
import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  notExactlyOnce,
  recordUnhandledRejections,
  StoreFleet,
  unclaimedCount,
} from "../support/store-fleet.js";

const WAIT = { timeout: 30_000, interval: 50 } as const;
/** How often the storm checks whether a subscriber is back to be killed. */
const POLL_MS = 5;

let server: SpawnedRedis;
let admin: Redis;
let fleet: StoreFleet;

beforeAll(async () => {
  server = await spawnRedisServer();
  admin = new Redis(server.url);
  fleet = new StoreFleet(server.url);
});
afterAll(async () => {
  await fleet.close();
  admin.disconnect();
  await server.stop();
});

/** Subscribers on the store's channel and on expired-key events, as Redis counts them. */
async function subscriberCounts(channel: string): Promise<number[]> {
  const reply = (await admin.pubsub("NUMSUB", channel, "__keyevent@0__:expired")) as unknown[];
  return [Number(reply[1]), Number(reply[3])];
}

describe("subscriber connections killed while sessions expire", () => {
  it("still runs every expiration handler exactly once, and the subscriptions come back", async () => {
    const rejections = recordUnhandledRejections();
    let storming = true;
    let storm: Promise<void> = Promise.resolve();
    try {
      const options = { manager: { ttl: 600, cleanupInterval: 200 } } as const;
      const instances = await Promise.all([
        fleet.add(options),
        fleet.add(options),
        fleet.add(options),
      ]);
      const channel = `${fleet.prefix}:events`;
      expect(await subscriberCounts(channel)).toEqual([3, 3]);

      // Kill every pub/sub connection over and over while the sessions expire: expired-key
      // events and the other instances' announcements are lost while they reconnect. Each
      // round waits for a subscription to be back, so every kill cuts live subscribers, at the
      // pace the machine reconnects them.
      const kills: { at: number; killed: number }[] = [];
      storm = (async () => {
        while (storming) {
          const killed = Number(await admin.call("CLIENT", "KILL", "TYPE", "pubsub"));
          kills.push({ at: Date.now(), killed });
          while (storming && (await subscriberCounts(channel)).every((count) => count === 0)) {
            await delay(POLL_MS);
          }
        }
      })();
      const killedSince = (round: number) =>
        kills.slice(round).reduce((sum, kill) => sum + kill.killed, 0);

      // Ten batches a kill apart, so that expiries spread over ten rounds of the storm.
      const created: SessionRecord[] = [];
      for (let batch = 0; batch < 10; batch++) {
        created.push(
          ...(await Promise.all(
            instances.flatMap((instance) =>
              Array.from({ length: 10 }, () => instance.sessions.create()),
            ),
          )),
        );
        const round = kills.length;
        await expect.poll(() => killedSince(round), WAIT).toBeGreaterThan(0);
      }
      const ids = created.map((session) => session.id);
      const deadlines = created.map((session) => session.expiresAt);
      const [first, last] = [Math.min(...deadlines), Math.max(...deadlines)];

      await expect.poll(() => fleet.handlerRunCount(), WAIT).toBeGreaterThanOrEqual(ids.length);
      storming = false;
      await storm;
      const killedWhileExpiring = kills
        .filter((kill) => kill.at >= first && kill.at <= last)
        .reduce((sum, kill) => sum + kill.killed, 0);
      expect(killedWhileExpiring).toBeGreaterThan(0);

      await expect.poll(() => unclaimedCount(admin, fleet.prefix), WAIT).toBe(0);
      expect(notExactlyOnce(ids, fleet.handlerRuns())).toEqual([]);
      expect(fleet.handlerRunCount()).toBe(ids.length);

      // ioredis reconnects and subscribes again: announcements reach every instance once more.
      await expect.poll(() => subscriberCounts(channel), WAIT).toEqual([3, 3]);
      const [a, b, c] = instances;
      if (!a || !b || !c) throw new Error("three instances expected");
      const session = await a.sessions.create();
      expect(await c.sessions.cleanup(session.id)).toBe(true);
      for (const instance of [a, b]) {
        await expect.poll(() => instance.endedCount(session.id, "destroyed"), WAIT).toBe(1);
      }
      expect(rejections.reasons).toEqual([]);
    } finally {
      storming = false;
      await storm;
      rejections.stop();
    }
  });
});
