import { randomUUID } from "node:crypto";
import { silentSendLog } from "@mcp-sessions/session-core";
import { describeSessionRelay, describeSessionStore } from "@mcp-sessions/session-testing";
import { startRedisCluster } from "@mcp-sessions/session-testing/redis";
import { Cluster } from "ioredis";
import { afterAll } from "vitest";
import { RedisSessionStore } from "../../src/index.js";

const server = await startRedisCluster({ masters: 3 });
const cluster = new Cluster([...server.nodes], { redisOptions: { maxRetriesPerRequest: 1 } });
afterAll(async () => {
  await cluster.quit();
  await server.stop();
});

describeSessionStore(
  "redis cluster",
  () =>
    new RedisSessionStore({
      client: cluster,
      prefix: `test-${randomUUID()}`,
      logger: silentSendLog,
    }),
);
describeSessionRelay("redis cluster", () => {
  const store = new RedisSessionStore({
    client: cluster,
    prefix: `test-${randomUUID()}`,
    logger: silentSendLog,
  });
  return { store, relay: store.relay };
});
