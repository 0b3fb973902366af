export { spawnRedisServer } from "./spawn-redis-server.js";
export { startRedis } from "./start-redis.js";
export { startRedisCluster } from "./start-redis-cluster.js";
export { startTcpProxy } from "./start-tcp-proxy.js";
export type {
  RedisSource,
  RedisTestCluster,
  RedisTestServer,
  SpawnedRedis,
  SpawnRedisServerOptions,
  StartRedisClusterOptions,
  TcpProxy,
} from "./types.js";
