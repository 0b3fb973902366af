import type { RedisTestServer } from "./types.js";

const REDIS_IMAGE = "redis:7";
const REDIS_PORT = 6379;

/** The result of {@link startRedisContainer}: `testcontainers` is an optional peer. */
export type RedisContainerResult =
  | { readonly status: "started"; readonly server: RedisTestServer }
  | { readonly status: "testcontainers-missing" };

/**
 * Starts `redis:7` through testcontainers, configured as a spawned server is (no persistence),
 * and resolves once it logs that it accepts connections. `testcontainers` is imported only here,
 * so that users without Docker need not install it.
 *
 * @throws whatever testcontainers throws when the engine cannot pull or start the image.
 */
export async function startRedisContainer(): Promise<RedisContainerResult> {
  let testcontainers: typeof import("testcontainers");
  try {
    testcontainers = await import("testcontainers");
  } catch (error) {
    if (isMissingModule(error, "testcontainers")) return { status: "testcontainers-missing" };
    throw error;
  }
  const { GenericContainer, Wait } = testcontainers;
  const container = await new GenericContainer(REDIS_IMAGE)
    .withCommand(["redis-server", "--save", "", "--appendonly", "no"])
    .withExposedPorts(REDIS_PORT)
    .withWaitStrategy(Wait.forLogMessage("Ready to accept connections"))
    .start();

  const host = container.getHost();
  const port = container.getMappedPort(REDIS_PORT);
  let stopped: Promise<void> | undefined;
  const server: RedisTestServer = Object.freeze({
    url: `redis://${host.includes(":") ? `[${host}]` : host}:${port}`,
    host,
    port,
    source: "testcontainers",
    stop: () => {
      stopped ??= container.stop().then(() => undefined);
      return stopped;
    },
  });
  return { status: "started", server };
}

function isMissingModule(error: unknown, name: string): boolean {
  return (
    error instanceof Error &&
    "code" in error &&
    (error.code === "ERR_MODULE_NOT_FOUND" || error.code === "MODULE_NOT_FOUND") &&
    error.message.includes(`'${name}'`)
  );
}
