import { once } from "node:events";
import { setTimeout as delay } from "node:timers/promises";
import type { SessionRecord } from "@mcp-sessions/session-core";
import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { Fleet, outcomeOf, recordUnhandledRejections } from "../support/fleet.js";
import { joinRecording } from "../support/relay.js";
import { baselineResources, beyond } from "../support/resources.js";

const COMMAND_TIMEOUT_MS = 500;
/** ioredis's default `disconnectTimeout`: how long a closing socket may wait for the server. */
const DISCONNECT_TIMEOUT_MS = 2_000;
/**
 * Calls in flight settle within the command timeout. Against a server that answers nothing,
 * the subscribers, then the command connection, each wait out `disconnectTimeout` before
 * ioredis destroys the socket. Anything beyond that, plus slack, is a hang.
 */
const CLOSE_BOUND_MS = COMMAND_TIMEOUT_MS + 2 * DISCONNECT_TIMEOUT_MS + 2_000;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Suspends (SIGSTOP) the server: connections stay open, nothing answers. */
async function freeze(server: SpawnedRedis): Promise<void> {
  const admin = new Redis(server.url);
  const info = await admin.info("server");
  // Fully closed before the freeze: a close that waits on the frozen server would linger.
  const ended = once(admin, "end");
  admin.disconnect();
  await ended;
  const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error("INFO server gave no process_id");
  process.kill(pid, "SIGSTOP");
  // Resume it before anything stops it: a stopped process would not act on SIGTERM.
  cleanups.push(async () => process.kill(pid, "SIGCONT"));
}

describe("close() while Redis is down", () => {
  it.each([
    ["killed", (server: SpawnedRedis) => server.kill()],
    ["frozen (connections open, nothing answers)", freeze],
  ])(
    "resolves promptly with Redis %s, and leaves no connection or timer behind",
    async (_label, takeDown) => {
      const rejections = recordUnhandledRejections();
      cleanups.push(async () => rejections.stop());
      const server = await spawnRedisServer();
      cleanups.push(() => server.stop());
      const baseline = await baselineResources();

      const fleet = new Fleet(server.url);
      cleanups.push(() => fleet.close());
      const options = {
        connection: "store",
        store: { commandTimeoutMs: COMMAND_TIMEOUT_MS },
        manager: { ttl: 60_000, cleanupInterval: 100 },
      } as const;
      const instances = await Promise.all([fleet.add(options), fleet.add(options)]);
      const sessions = await Promise.all(instances.map((instance) => instance.sessions.create()));
      await Promise.all(instances.map(({ store }) => joinRecording(store).member.ready));
      // The probe sees the stores' sockets: a command connection and three subscribers each
      // (the store's channel, expired-key events, the relay).
      expect(beyond(baseline).TCPSocketWrap).toBeGreaterThanOrEqual(8);

      await takeDown(server);
      const inFlight = instances.flatMap(({ sessions: manager }, index) => {
        const { id } = sessions[index] as SessionRecord;
        return [outcomeOf(manager.get(id)), outcomeOf(manager.touch(id))];
      });
      const startedAt = Date.now();
      const closing = fleet.close().then(() => "closed" as const);
      const outcome = await Promise.race([
        closing,
        delay(CLOSE_BOUND_MS, "still closing" as const),
      ]);
      const took = Date.now() - startedAt;

      expect(outcome).toBe("closed");
      expect(took).toBeLessThan(CLOSE_BOUND_MS);
      // close() waited for the calls in flight, which failed as outages, not as misses.
      expect(
        (await Promise.all(inFlight)).map((call) => call.status === "rejected" && call.code),
      ).toEqual(inFlight.map(() => "STORE_UNAVAILABLE"));
      // ioredis keeps a clean-up timer per closed connection for `disconnectTimeout`, even when the
      // socket was already gone; past that, nothing may remain.
      await expect
        .poll(() => beyond(baseline), { timeout: 3 * DISCONNECT_TIMEOUT_MS, interval: 100 })
        .toEqual({});
      expect(rejections.reasons).toEqual([]);
    },
  );
});
