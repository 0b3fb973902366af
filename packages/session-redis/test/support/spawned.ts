import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { Redis } from "ioredis";

/**
 * A `redis-server` of the test's own, to kill and restart, and a client for the test's reads.
 * `defer` receives what stops both, to run after the test.
 */
export async function spawnWithAdmin(
  defer: (cleanup: () => Promise<unknown>) => void,
  args: string[] = [],
): Promise<{ server: SpawnedRedis; admin: Redis }> {
  const server = await spawnRedisServer({ args });
  const admin = new Redis(server.url);
  // It outlives outages the test makes on purpose; its errors are expected then.
  admin.on("error", () => {});
  defer(() => server.stop());
  defer(async () => admin.disconnect());
  return { server, admin };
}
