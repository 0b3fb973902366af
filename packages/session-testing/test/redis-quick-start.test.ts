import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RedisTestServer, startRedis } from "../src/redis/index.js";

let redis: RedisTestServer;
let client: Redis;

beforeAll(async () => {
  redis = await startRedis(); // REDIS_URL, else Docker, else a spawned redis-server
  client = new Redis(redis.url);
});

afterAll(async () => {
  await client.quit();
  await redis.stop(); // a no-op for REDIS_URL
});

it("talks to a real Redis", async () => {
  const key = `example:${randomUUID()}`; // the server may be shared: never flush it
  await client.set(key, "hello", "PX", 60_000);
  expect(await client.get(key)).toBe("hello");
});
