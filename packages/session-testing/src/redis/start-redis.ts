import { probeDockerEngine } from "./docker-engine.js";
import { findExecutable } from "./executable.js";
import { findFreePort } from "./free-port.js";
import { serverFromRedisUrl } from "./redis-url.js";
import { launchRedisServer } from "./spawn-redis-server.js";
import { startRedisContainer } from "./start-redis-container.js";
import type { RedisTestServer } from "./types.js";

/**
 * Provides a Redis server for tests, trying in order:
 * 1. `REDIS_URL`, when set: used as it is, and `stop()` does nothing;
 * 2. a Docker engine, when one answers `GET /_ping` within 1 s at `DOCKER_HOST` or the usual
 *    sockets and the optional peer `testcontainers` is installed: a `redis:7` container;
 * 3. `redis-server` on PATH: a process of its own on a free port of 127.0.0.1, in a temp dir.
 *
 * It never skips: when none is available it throws, saying how to get one. Call `stop()` when
 * done (in `afterAll`); it waits until the container or process is gone. A test that must kill
 * or reconfigure its server uses {@link spawnRedisServer} instead.
 *
 * @throws Error when no Redis can be had, or when the one chosen fails to start; TypeError
 * when `REDIS_URL` is not a `redis://` URL.
 * @example
 * const redis = await startRedis();
 * const client = new Redis(redis.url);
 * await client.ping();
 * client.disconnect();
 * await redis.stop();
 */
export async function startRedis(): Promise<RedisTestServer> {
  const redisUrl = process.env.REDIS_URL;
  if (redisUrl !== undefined && redisUrl !== "") return serverFromRedisUrl(redisUrl);

  const docker = await probeDockerEngine();
  if (docker.answered) {
    const container = await startRedisContainer();
    if (container.status === "started") return container.server;
  }

  const binary = await findExecutable("redis-server");
  if (binary !== undefined) {
    const spawned = await launchRedisServer({ binary, args: [], port: () => findFreePort() });
    return Object.freeze({
      url: spawned.url,
      host: spawned.host,
      port: spawned.port,
      source: "redis-server",
      stop: spawned.stop,
    });
  }

  const dockerState = docker.answered
    ? `a Docker engine answers at ${docker.endpoint} but \`testcontainers\` is not installed`
    : `no Docker engine answered (${docker.tried.join(", ") || "DOCKER_HOST is not probed"})`;
  throw new Error(
    `No Redis for tests: REDIS_URL is unset, ${dockerState}, and \`redis-server\` is not on ` +
      "PATH. Set REDIS_URL=redis://host:port to use a running server, start Docker with " +
      "`testcontainers` installed (`npm install --save-dev testcontainers`), or install Redis " +
      "(`apt-get install redis-server`, `brew install redis`).",
  );
}
