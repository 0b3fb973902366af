import { setTimeout as delay } from "node:timers/promises";
import type { SessionRecord } from "@mcp-sessions/session-core";
import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { afterEach, describe, expect, it } from "vitest";
import { joinRecording } from "../support/relay.js";
import { baselineResources, beyond } from "../support/resources.js";
import { outcomeOf, recordUnhandledRejections, StoreFleet } from "../support/store-fleet.js";

const COMMAND_TIMEOUT_MS = 500;
/** ioredis's default `disconnectTimeout`: how long a closing socket may wait for the server. */
const DISCONNECT_TIMEOUT_MS = 2_000;
/**
 * What close() may wait out by design: calls in flight settle within the command timeout, and
 * against a server that answers nothing, the subscription connection, then the command one, each
 * wait out `disconnectTimeout` before ioredis destroys the socket.
 */
const CLOSE_BY_DESIGN_MS = COMMAND_TIMEOUT_MS + 2 * DISCONNECT_TIMEOUT_MS;
/**
 * Room for a loaded machine, which makes timers late but never stretches them by a factor.
 * A close that waits for Redis to come back, or for another timeout of its own, still fails.
 */
const SLACK_MS = 8_000;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("close() while Redis is down", () => {
  it.each([
    ["killed", (server: SpawnedRedis) => server.kill()],
    ["frozen (connections open, nothing answers)", (server: SpawnedRedis) => server.freeze()],
  ])(
    "resolves promptly with Redis %s, and leaves no connection or timer behind",
    async (_label, takeDown) => {
      const rejections = recordUnhandledRejections();
      cleanups.push(async () => rejections.stop());
      const server = await spawnRedisServer();
      cleanups.push(() => server.stop());
      const baseline = await baselineResources();

      const fleet = new StoreFleet(server.url);
      cleanups.push(() => fleet.close());
      const options = {
        connection: "store",
        store: { commandTimeoutMs: COMMAND_TIMEOUT_MS },
        manager: { ttl: 60_000, cleanupInterval: 100 },
      } as const;
      const instances = await Promise.all([fleet.add(options), fleet.add(options)]);
      const sessions = await Promise.all(instances.map((instance) => instance.sessions.create()));
      await Promise.all(instances.map(({ store }) => joinRecording(store).member.ready));
      // The probe sees the stores' sockets: a command connection and a subscription connection
      // each (the store's channel, expired-key events, the relay).
      expect(beyond(baseline).TCPSocketWrap).toBeGreaterThanOrEqual(4);

      await takeDown(server);
      const inFlight = instances.flatMap(({ sessions: manager }, index) => {
        const { id } = sessions[index] as SessionRecord;
        return [outcomeOf(manager.get(id)), outcomeOf(manager.touch(id))];
      });
      // Redis stays down until the test is over: close() must not wait for it.
      const closing = fleet.close().then(() => "closed" as const);
      const outcome = await Promise.race([
        closing,
        delay(CLOSE_BY_DESIGN_MS + SLACK_MS, "still closing" as const),
      ]);

      expect(outcome).toBe("closed");
      // close() waited for the calls in flight, which failed as outages, not as misses.
      expect(
        (await Promise.all(inFlight)).map((call) => call.status === "rejected" && call.code),
      ).toEqual(inFlight.map(() => "STORE_UNAVAILABLE"));
      // ioredis keeps a clean-up timer per closed connection for `disconnectTimeout`, even when the
      // socket was already gone; past that, nothing may remain.
      await expect
        .poll(() => beyond(baseline), { timeout: DISCONNECT_TIMEOUT_MS + SLACK_MS, interval: 100 })
        .toEqual({});
      expect(rejections.reasons).toEqual([]);
    },
  );
});
