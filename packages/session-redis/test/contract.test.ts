import { randomUUID } from "node:crypto";
import { silentSendLog } from "@mcp-sessions/session-core";
import { describeSessionRelay, describeSessionStore } from "@mcp-sessions/session-testing";
import { startRedis } from "@mcp-sessions/session-testing/redis";
import { Redis } from "ioredis";
import { afterAll } from "vitest";
import { RedisSessionStore } from "../src/index.js";

const server = await startRedis();
const client = new Redis(server.url);
afterAll(async () => {
  await client.quit();
  await server.stop();
});

describeSessionStore(
  "redis",
  () => new RedisSessionStore({ client, prefix: `test-${randomUUID()}`, logger: silentSendLog }),
);
describeSessionRelay("redis", () => {
  const store = new RedisSessionStore({
    client,
    prefix: `test-${randomUUID()}`,
    logger: silentSendLog,
  });
  return { store, relay: store.relay };
});
