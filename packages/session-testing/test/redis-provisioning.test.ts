import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cluster, Redis } from "ioredis";
import { afterEach, describe, expect, it, vi } from "vitest";
import { probeDockerEngine } from "../src/redis/docker-engine.js";
import {
  type SpawnedRedis,
  spawnRedisServer,
  startRedis,
  startRedisCluster,
  startTcpProxy,
} from "../src/redis/index.js";

/**
 * How long a reconnect or a process exit may take on a busy machine; `expect.poll` alone gives
 * up after 1 s. A passing run returns as soon as the condition holds.
 */
const WAIT = { timeout: 10_000, interval: 20 } as const;

/** Stops, closes and disconnects everything a test opened, newest first. */
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function spawned(options?: Parameters<typeof spawnRedisServer>[0]): Promise<SpawnedRedis> {
  const redis = await spawnRedisServer(options);
  cleanups.push(() => redis.stop());
  return redis;
}

/** A connected client that fails fast instead of queueing commands while disconnected. */
async function client(url: string, reconnect = true): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: reconnect ? () => 20 : () => null,
  });
  // Connection errors are expected in these tests; without a listener ioredis logs each one.
  redis.on("error", () => {});
  cleanups.push(() => redis.disconnect());
  await redis.connect();
  return redis;
}

/** PING on a fresh connection that is closed again; rejects when nothing answers. */
async function pingOnce(url: string): Promise<string> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on("error", () => {});
  try {
    await redis.connect();
    return await redis.ping();
  } finally {
    redis.disconnect();
  }
}

async function serverPid(url: string): Promise<number> {
  const info = await (await client(url)).info("server");
  return Number(/process_id:(\d+)/.exec(info)?.[1]);
}

/** The state letter of `/proc/<pid>/stat`: `S` sleeping, `R` running, `T` stopped. */
async function processState(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // The command name, in parentheses, may hold spaces; the state follows the last ")".
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function configDir(url: string): Promise<string> {
  const [, dir] = (await (await client(url)).config("GET", "dir")) as [string, string];
  return dir;
}

describe("startRedis", () => {
  it("without REDIS_URL starts a server of its own, and stop() ends it", async () => {
    vi.stubEnv("REDIS_URL", undefined);
    const docker = await probeDockerEngine();

    const redis = await startRedis();
    cleanups.push(() => redis.stop());

    expect(redis.source).toBe(docker.answered ? "testcontainers" : "redis-server");
    expect(redis.url).toBe(`redis://${redis.host}:${redis.port}`);
    expect(await pingOnce(redis.url)).toBe("PONG");

    await redis.stop();
    await expect(pingOnce(redis.url)).rejects.toThrow();
    await redis.stop(); // idempotent
  });

  it("uses REDIS_URL as it is, and stop() leaves that server alone", async () => {
    const target = await spawned();
    vi.stubEnv("REDIS_URL", target.url);

    const redis = await startRedis();

    expect(redis).toMatchObject({
      url: target.url,
      host: "127.0.0.1",
      port: target.port,
      source: "REDIS_URL",
    });
    expect(await pingOnce(redis.url)).toBe("PONG");
    await redis.stop();
    expect(await pingOnce(target.url)).toBe("PONG");
  });

  it("rejects a REDIS_URL that is not redis://, without echoing it", async () => {
    vi.stubEnv("REDIS_URL", "http://user:hunter2@example.invalid:6379");

    const error = await startRedis().then(
      () => undefined,
      (reason: unknown) => reason,
    );

    expect(error).toBeInstanceOf(TypeError);
    expect(String(error)).toContain("REDIS_URL");
    expect(String(error)).not.toContain("hunter2");
  });

  it("fails, saying how to get a Redis, when there is none", async () => {
    const emptyDir = await mkdtemp(join(tmpdir(), "no-redis-"));
    cleanups.push(() => rm(emptyDir, { recursive: true, force: true }));
    vi.stubEnv("REDIS_URL", undefined);
    vi.stubEnv("PATH", emptyDir);
    vi.stubEnv("DOCKER_HOST", `unix://${join(emptyDir, "docker.sock")}`);

    const attempt = startRedis();

    await expect(attempt).rejects.toThrow(/REDIS_URL/);
    await expect(attempt).rejects.toThrow(/start Docker/);
    await expect(attempt).rejects.toThrow(/apt-get install redis-server/);
  });
});

describe("spawnRedisServer", () => {
  it("kill() makes commands fail; restart() brings PING back on the same port, empty", async () => {
    const redis = await spawned();
    const connection = await client(redis.url);
    await connection.set("key", "before");

    await redis.kill();
    await expect(connection.ping()).rejects.toThrow();
    await expect(pingOnce(redis.url)).rejects.toThrow();

    await redis.restart();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await pingOnce(redis.url)).toBe("PONG");
    // The client reconnects by itself to the same port.
    await expect.poll(() => connection.ping().catch(() => "down"), WAIT).toBe("PONG");
    expect(await connection.get("key")).toBeNull();
  });

  it("freeze() stops the process with its connections open; thaw() runs what was queued", async () => {
    const redis = await spawnRedisServer();
    cleanups.push(() => redis.stop());
    const pid = await serverPid(redis.url);
    const connection = await client(redis.url);

    await redis.freeze();
    // The kernel's own word that the process is stopped, rather than a wait for no answer.
    await expect.poll(() => processState(pid), WAIT).toBe("T");
    const queued = connection.set("key", "sent while frozen");
    await redis.thaw();
    expect(await queued).toBe("OK");
    expect(await connection.get("key")).toBe("sent while frozen");

    // A frozen server still stops: stop() thaws it before SIGTERM.
    await redis.freeze();
    await expect.poll(() => processState(pid), WAIT).toBe("T");
    await redis.stop();
    expect(isAlive(pid)).toBe(false);
  });

  it("restart() of a running server replaces the process", async () => {
    const redis = await spawned();
    const before = await serverPid(redis.url);

    await redis.restart();

    const after = await serverPid(redis.url);
    expect(after).not.toBe(before);
    expect(isAlive(before)).toBe(false);
  });

  it("stop() ends the process and removes its temp dir; restart() then rejects", async () => {
    const redis = await spawnRedisServer();
    const pid = await serverPid(redis.url);
    const dir = await configDir(redis.url);
    expect(existsSync(dir)).toBe(true);

    await redis.stop();

    expect(isAlive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await expect(pingOnce(redis.url)).rejects.toThrow();
    await expect(redis.restart()).rejects.toThrow(/was stopped/);
    await redis.kill(); // nothing to kill
    await redis.stop(); // idempotent
  });

  it("appends extra args: --notify-keyspace-events Ex", async () => {
    const redis = await spawned({ args: ["--notify-keyspace-events", "Ex"] });

    const reply = await (await client(redis.url)).config("GET", "notify-keyspace-events");

    expect(reply).toEqual(["notify-keyspace-events", "xE"]);
  });

  it('appends extra args: --rename-command CONFIG "" makes CONFIG unknown', async () => {
    const redis = await spawned({ args: ["--rename-command", "CONFIG", ""] });
    const connection = await client(redis.url);

    await expect(connection.config("GET", "dir")).rejects.toThrow(/unknown command/i);
    expect(await connection.ping()).toBe("PONG");
  });

  it("starts on a given port, and refuses one that another server holds", async () => {
    const first = await spawned();
    const port = first.port;
    await first.stop();

    const second = await spawned({ port });
    expect(second.port).toBe(port);
    expect(await pingOnce(second.url)).toBe("PONG");

    // PING on that port would be answered by `second`; the new server must not take it for its own.
    await expect(spawnRedisServer({ port })).rejects.toThrow(/Address already in use/);
  });

  it("rejects invalid options with a TypeError naming the option", async () => {
    await expect(spawnRedisServer({ port: 0 })).rejects.toThrow(TypeError);
    await expect(spawnRedisServer({ port: 0 })).rejects.toThrow(/`port`.*got `0` \(number\)/);
  });

  it("fails clearly when redis-server is not on PATH", async () => {
    const emptyDir = await mkdtemp(join(tmpdir(), "no-redis-"));
    cleanups.push(() => rm(emptyDir, { recursive: true, force: true }));
    vi.stubEnv("PATH", emptyDir);

    await expect(spawnRedisServer()).rejects.toThrow(
      /`redis-server`.*not on PATH.*apt-get install/,
    );
    await expect(startRedisCluster()).rejects.toThrow(/not on PATH/);
  });

  it("kills the process and removes the temp dir if the test process exits first", async () => {
    const before = new Set(process.listeners("exit"));
    const redis = await spawned();
    const pid = await serverPid(redis.url);
    const dir = await configDir(redis.url);
    const added = process.listeners("exit").filter((listener) => !before.has(listener));
    expect(added).toHaveLength(1);

    // Run the guard as the "exit" event would, without exiting.
    added[0]?.(0);

    await expect.poll(() => isAlive(pid), WAIT).toBe(false);
    expect(existsSync(dir)).toBe(false);
    expect(process.listeners("exit")).toEqual([...before]);
  });

  it("also kills it on SIGTERM, which ends a vitest worker without an exit event", async () => {
    // Another SIGTERM listener keeps the guard from re-raising the signal at this test worker.
    const keepAlive = (): void => {};
    process.on("SIGTERM", keepAlive);
    cleanups.push(() => void process.off("SIGTERM", keepAlive));
    const before = new Set(process.listeners("SIGTERM"));
    const redis = await spawned();
    const pid = await serverPid(redis.url);
    const added = process.listeners("SIGTERM").filter((listener) => !before.has(listener));
    expect(added).toHaveLength(1);

    added[0]?.("SIGTERM");

    await expect.poll(() => isAlive(pid), WAIT).toBe(false);
    expect(process.listeners("SIGTERM")).toEqual([...before]);
  });
});

describe("startRedisCluster", () => {
  it("forms a 3-master cluster that an ioredis Cluster can use, and stop() ends every node", async () => {
    const cluster = await startRedisCluster();
    cleanups.push(() => cluster.stop());
    expect(cluster.nodes).toHaveLength(3);

    for (const node of cluster.nodes) {
      const info = await (await client(`redis://${node.host}:${node.port}`)).cluster("INFO");
      expect(info).toContain("cluster_state:ok");
      expect(info).toContain("cluster_slots_assigned:16384");
    }

    const connection = new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })));
    cleanups.push(() => connection.disconnect());
    const keys = Array.from({ length: 30 }, (_, i) => `key-${i}`);
    for (const key of keys) await connection.set(key, `value of ${key}`);
    for (const key of keys) expect(await connection.get(key)).toBe(`value of ${key}`);
    // The keys landed on every master, so commands really crossed slots and nodes.
    const sizes = await Promise.all(
      cluster.nodes.map(async ({ host, port }) =>
        (await client(`redis://${host}:${port}`)).dbsize(),
      ),
    );
    expect(sizes.every((size) => size > 0)).toBe(true);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(keys.length);

    await cluster.stop();
    for (const { host, port } of cluster.nodes) {
      await expect(pingOnce(`redis://${host}:${port}`)).rejects.toThrow();
    }
  });

  it("rejects fewer than 3 masters with a TypeError", async () => {
    await expect(startRedisCluster({ masters: 2 })).rejects.toThrow(TypeError);
    await expect(startRedisCluster({ masters: 2 })).rejects.toThrow(/`masters`.*got `2`/);
  });
});

describe("startTcpProxy", () => {
  it("forwards connections to its target", async () => {
    const redis = await spawned();
    const proxy = await startTcpProxy({ host: redis.host, port: redis.port });
    cleanups.push(() => proxy.close());

    expect(proxy.url).toBe(`redis://127.0.0.1:${proxy.port}`);
    expect(proxy.port).not.toBe(redis.port);
    await (await client(proxy.url)).set("through", "proxy");
    expect(await (await client(redis.url)).get("through")).toBe("proxy");
  });

  it("cutConnections() makes a client see a close, and it reconnects", async () => {
    const redis = await spawned();
    const proxy = await startTcpProxy({ host: redis.host, port: redis.port });
    cleanups.push(() => proxy.close());
    const connection = await client(proxy.url);
    expect(await connection.ping()).toBe("PONG");
    const events: string[] = [];
    connection.on("close", () => events.push("close"));
    connection.on("ready", () => events.push("ready"));

    proxy.cutConnections();

    await expect.poll(() => events, WAIT).toEqual(["close", "ready"]);
    expect(await connection.ping()).toBe("PONG");
  });

  it("pause() cuts and refuses connections until resume()", async () => {
    const redis = await spawned();
    const proxy = await startTcpProxy({ host: redis.host, port: redis.port });
    cleanups.push(() => proxy.close());
    const connection = await client(proxy.url);
    expect(await connection.ping()).toBe("PONG");

    proxy.pause();
    await expect.poll(() => connection.status, WAIT).not.toBe("ready");
    await expect(pingOnce(proxy.url)).rejects.toThrow();

    proxy.resume();
    expect(await pingOnce(proxy.url)).toBe("PONG");
    await expect.poll(() => connection.ping().catch(() => "down"), WAIT).toBe("PONG");
  });

  it("close() cuts every connection and frees the port; a second close() resolves", async () => {
    const redis = await spawned();
    const proxy = await startTcpProxy({ host: redis.host, port: redis.port });
    const connection = await client(proxy.url, false);
    expect(await connection.ping()).toBe("PONG");

    await proxy.close();

    await expect.poll(() => connection.status, WAIT).toBe("end");
    await expect(pingOnce(proxy.url)).rejects.toThrow();
    await proxy.close();
  });
});

describe("probeDockerEngine", () => {
  const servers: (HttpServer | TcpServer)[] = [];
  afterEach(async () => {
    await Promise.all(
      servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))),
    );
  });

  async function listenOnSocket(server: HttpServer | TcpServer): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "fake-docker-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const socketPath = join(dir, "docker.sock");
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    return socketPath;
  }

  it("asks the engine at DOCKER_HOST with GET /_ping", async () => {
    const requests: string[] = [];
    const engine = createHttpServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.end("OK");
    });
    const socketPath = await listenOnSocket(engine);
    vi.stubEnv("DOCKER_HOST", `unix://${socketPath}`);

    expect(await probeDockerEngine()).toEqual({
      answered: true,
      endpoint: `unix://${socketPath}`,
    });
    expect(requests).toEqual(["GET /_ping"]);
  });

  it("counts a socket that accepts but never answers as no engine", async () => {
    // Reads and drops what it gets, so it sees the client hang up, but never answers.
    const silent = createTcpServer((socket) => socket.resume());
    const socketPath = await listenOnSocket(silent);
    vi.stubEnv("DOCKER_HOST", `unix://${socketPath}`);

    expect(await probeDockerEngine()).toEqual({
      answered: false,
      tried: [`unix://${socketPath}`],
    });
  });

  it("counts a missing socket as no engine", async () => {
    vi.stubEnv("DOCKER_HOST", "unix:///nonexistent/docker.sock");

    expect(await probeDockerEngine()).toEqual({
      answered: false,
      tried: ["unix:///nonexistent/docker.sock"],
    });
  });
});
