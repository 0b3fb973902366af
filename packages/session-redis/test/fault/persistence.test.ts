import { randomUUID } from "node:crypto";
import { SessionManager, type SessionRecord, silentSendLog } from "@mcp-sessions/session-core";
import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { RedisSessionStore } from "../../src/index.js";

const SESSIONS = 1_000;
const HOUR = 3_600_000;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function spawn(args: string[]): Promise<SpawnedRedis> {
  const server = await spawnRedisServer({ args });
  cleanups.push(() => server.stop());
  return server;
}

/** A manager on a store on a client of its own: an instance of the app. */
function instance(server: SpawnedRedis, prefix: string) {
  const client = new Redis(server.url, { maxRetriesPerRequest: 1 });
  // The first instance sees its server killed under it; that error is the point.
  client.on("error", () => {});
  const store = new RedisSessionStore({ client, prefix, logger: silentSendLog });
  const sessions = new SessionManager({ store, enabled: false, logger: silentSendLog });
  const expired: string[] = [];
  sessions.setExpirationHandler((id) => void expired.push(id));
  cleanups.push(
    async () => client.disconnect(),
    () => store.close(),
    () => sessions.close(),
  );
  return { store, sessions, expired };
}

/**
 * Creates SESSIONS sessions, SIGKILLs the server as a crash would, starts it again on the same
 * dir (resolving once it answers PING, so once its data is loaded), and reports what a fresh
 * instance finds: how many sessions read back whole, and how many a sweep past every deadline
 * claims, each of which runs its expiration handler.
 */
async function crashAndRestart(
  server: SpawnedRedis,
): Promise<{ survived: number; counted: number; claimed: number; handled: number }> {
  const prefix = `persist-${randomUUID()}`;
  const before = instance(server, prefix);
  const created: SessionRecord[] = await Promise.all(
    Array.from({ length: SESSIONS }, (_, n) =>
      before.sessions.create({ n }, { owner: `user-${n % 10}` }),
    ),
  );
  await server.kill();
  await server.restart();

  const after = instance(server, prefix);
  await after.store.ready();
  let survived = 0;
  for (const session of created) {
    const found = await after.sessions.get(session.id, { owner: session.owner as string });
    if (found !== undefined) {
      expect(found).toEqual(session);
      survived++;
    }
  }
  const counted = await after.sessions.getActiveSessionCount();
  const { claimed } = await after.store.sweep(Date.now() + 2 * HOUR);
  await expect.poll(() => after.expired.length).toBe(claimed);
  return { survived, counted, claimed, handled: after.expired.length };
}

describe("a Redis restart", () => {
  it("with AOF (appendfsync always), keeps every session through a SIGKILL, and its handler", async () => {
    const server = await spawn(["--appendonly", "yes", "--appendfsync", "always"]);
    expect(await crashAndRestart(server)).toEqual({
      survived: SESSIONS,
      counted: SESSIONS,
      claimed: SESSIONS,
      handled: SESSIONS,
    });
  });

  it("without persistence, loses every session, and no expiration handler ever runs for them", async () => {
    // spawnRedisServer's defaults: --save "" --appendonly no.
    const server = await spawn([]);
    expect(await crashAndRestart(server)).toEqual({
      survived: 0,
      counted: 0,
      claimed: 0,
      handled: 0,
    });
  });
});
