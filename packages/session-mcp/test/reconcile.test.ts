import { silentSendLog } from "@mcp-sessions/session-core";
import { RedisSessionStore } from "@mcp-sessions/session-redis";
import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { afterEach, expect, it } from "vitest";
import {
  type ConnectedClient,
  connectClient,
  type HandlerFleet,
  type Instance,
  routedFetch,
  startHandlerFleet,
} from "./support/handler-fleet.js";

// `ended` closes a session's transport on every instance, but a signal can be missed (an
// instance re-subscribing after a Redis restart) or never sent (a restart without persistence
// loses sessions silently). Each instance checks its open sessions against the store, a bounded
// batch per cleanupInterval, and releases the ones that are gone.

const SESSIONS = 5;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function openSessionsOn(instance: Instance): Promise<ConnectedClient[]> {
  const clients = await Promise.all(
    Array.from({ length: SESSIONS }, () =>
      connectClient(
        instance.url,
        routedFetch(() => instance.http.port),
      ),
    ),
  );
  cleanups.push(() => Promise.all(clients.map(({ client }) => client.close())));
  expect(instance.created).toHaveLength(SESSIONS);
  return clients;
}

function closeWith(fleet: HandlerFleet): HandlerFleet {
  cleanups.push(() => fleet.close());
  return fleet;
}

it("releases sessions that expired without an ended signal reaching the instance", async () => {
  let now = Date.now();
  // No instance sweeps, so no expiry is ever claimed or announced: reads alone see it.
  const fleet = closeWith(
    await startHandlerFleet({
      manager: { enabled: false, ttl: 60_000, cleanupInterval: 50, clock: { now: () => now } },
    }),
  );
  await openSessionsOn(fleet.b);
  expect(fleet.b.closed).toEqual([]);

  now += 60_000;
  await expect
    .poll(() => [...fleet.b.closed].sort(), { timeout: 30_000, interval: 20 })
    .toEqual([...fleet.b.created].sort());
});

it("releases every session a Redis restart without persistence lost", async () => {
  const server: SpawnedRedis = await spawnRedisServer();
  cleanups.push(() => server.stop());
  const store = new RedisSessionStore({
    url: server.url,
    prefix: "reconcile",
    logger: silentSendLog,
  });
  const fleet = closeWith(
    await startHandlerFleet({ store, manager: { ttl: 60_000, cleanupInterval: 50 } }),
  );
  cleanups.push(() => store.close());
  await store.ready();
  const clients = await openSessionsOn(fleet.b);
  // Each live session answers on both instances before the restart.
  const listed = await Promise.all(clients.map(({ client }) => client.listTools()));
  expect(listed.map(({ tools }) => tools.length > 0)).toEqual(clients.map(() => true));

  await server.restart();
  await expect
    .poll(() => [...fleet.b.closed].sort(), { timeout: 30_000, interval: 20 })
    .toEqual([...fleet.b.created].sort());
  await expect.poll(() => fleet.b.sessions.getActiveSessionCount(), { timeout: 30_000 }).toBe(0);
});
