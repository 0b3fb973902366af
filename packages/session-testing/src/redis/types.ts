/** Where {@link startRedis} found its server, in the order it tries them. */
export type RedisSource = "REDIS_URL" | "testcontainers" | "redis-server";

/** A Redis server for tests, from {@link startRedis}. */
export interface RedisTestServer {
  /** `redis://host:port`, or `REDIS_URL` exactly as given. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly source: RedisSource;
  /**
   * Stops what `startRedis` started and resolves once it is gone: the container, or the
   * `redis-server` process and its temp dir. A no-op for `REDIS_URL`, which it did not start.
   * Idempotent.
   */
  stop(): Promise<void>;
}

/** Options of {@link spawnRedisServer}. */
export interface SpawnRedisServerOptions {
  /**
   * Extra `redis-server` arguments, appended after the defaults, so they win over them; for
   * example `["--rename-command", "CONFIG", ""]` or `["--notify-keyspace-events", "Ex"]`.
   * @default []
   */
  readonly args?: readonly string[];
  /**
   * TCP port on 127.0.0.1, 1 to 65535. Without it the OS picks a free one, and a port taken
   * between that choice and the server's start is retried with another.
   * @default a free port
   */
  readonly port?: number;
}

/** A `redis-server` process of its own, from {@link spawnRedisServer}, for fault tests. */
export interface SpawnedRedis {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Always `127.0.0.1`. */
  readonly host: string;
  /** Stays the same across `kill` and `restart`. */
  readonly port: number;
  /**
   * SIGTERM, waits for the exit (SIGKILL after 10 s), then removes the temp dir. Idempotent;
   * afterwards `restart` rejects and `kill` does nothing.
   */
  stop(): Promise<void>;
  /** SIGKILL, as a crash would, and waits for the exit. Does nothing when not running. */
  kill(): Promise<void>;
  /**
   * SIGSTOP, as a stalled server or a long GC pause of the host would be: connections stay open
   * and nothing answers. Commands sent meanwhile stay queued in their sockets and run on `thaw`.
   * Does nothing when not running. `stop`, `kill` and `restart` thaw it first.
   */
  freeze(): Promise<void>;
  /** SIGCONT after `freeze`: the server runs what was queued, then answers again. */
  thaw(): Promise<void>;
  /**
   * Starts the server again on the same port with the same arguments and resolves once it
   * answers PING. A running server is first stopped with SIGTERM. By default data is not kept:
   * the server saves nothing, so it comes back empty (`args` with `--appendonly yes` keep it,
   * in the same directory), and `CONFIG SET` changes are gone either way.
   * @throws Error after `stop()`, or when the server does not answer PING within 10 s.
   */
  restart(): Promise<void>;
}

/** Options of {@link startRedisCluster}. */
export interface StartRedisClusterOptions {
  /**
   * Number of masters, each its own `redis-server`. No replicas.
   * Minimum: `3`, as `redis-cli --cluster create` requires.
   * @default 3
   */
  readonly masters?: number;
}

/** A local Redis Cluster of masters only, from {@link startRedisCluster}. */
export interface RedisTestCluster {
  /** Every master, each on 127.0.0.1; pass them to an ioredis `Cluster`. */
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  /** Stops every node and removes their temp dirs, and resolves once all are gone. Idempotent. */
  stop(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 in front of a Redis server, from {@link startTcpProxy}. */
export interface TcpProxy {
  /** Always `127.0.0.1`. */
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>`: give this to the client under test. */
  readonly url: string;
  /**
   * Destroys every open connection, on both sides, as a network failure would. New
   * connections are still accepted, so a client reconnects.
   */
  cutConnections(): void;
  /**
   * Cuts every open connection and, until `resume()`, closes each new one as soon as it is
   * accepted, as a server that is down would.
   */
  pause(): void;
  /** Forwards new connections again after `pause()`. */
  resume(): void;
  /** Cuts every connection, stops listening and resolves once the port is closed. Idempotent. */
  close(): Promise<void>;
}
