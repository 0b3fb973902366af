import { execFile } from "node:child_process";
import { pollUntil } from "../wait/poll-until.js";
import { findExecutable } from "./executable.js";
import { findFreePort } from "./free-port.js";
import { sendRedisCommand } from "./redis-command.js";
import { INSTALL_REDIS_HINT, launchRedisServer } from "./spawn-redis-server.js";
import type { RedisTestCluster, SpawnedRedis, StartRedisClusterOptions } from "./types.js";

/** Redis Cluster listens for its node-to-node bus on the client port plus this. */
const CLUSTER_BUS_OFFSET = 10_000;
const SLOT_COUNT = 16_384;
const CREATE_TIMEOUT_MS = 30_000;
const READY_TIMEOUT_MS = 30_000;
const COMMAND_TIMEOUT_MS = 1_000;
const MIN_MASTERS = 3;

/**
 * Starts a local Redis Cluster of `masters` masters and no replicas: one `redis-server` per
 * node, each in its own temp dir on a free port of 127.0.0.1 whose bus port (port + 10000) is
 * free too, joined with `redis-cli --cluster create`. Resolves once `CLUSTER INFO` on every node
 * reports `cluster_state:ok`, all 16384 slots assigned and every node known.
 *
 * @throws TypeError for invalid options; Error when `redis-server` or `redis-cli` is not on
 * PATH, or when the cluster does not form within 30 s. Nodes started so far are stopped first.
 * @example
 * const cluster = await startRedisCluster();
 * const client = new Cluster(cluster.nodes);
 * await client.set("a", "1");
 * await client.quit();
 * await cluster.stop();
 */
export async function startRedisCluster(
  options: StartRedisClusterOptions = {},
): Promise<RedisTestCluster> {
  const { masters } = resolveClusterOptions(options);
  const [server, cli] = await Promise.all([
    findExecutable("redis-server"),
    findExecutable("redis-cli"),
  ]);
  if (server === undefined || cli === undefined) {
    const missing = server === undefined ? "redis-server" : "redis-cli";
    throw new Error(
      `startRedisCluster needs \`${missing}\`, which is not on PATH; ${INSTALL_REDIS_HINT}`,
    );
  }

  const started = await Promise.allSettled(
    Array.from({ length: masters }, () =>
      launchRedisServer({
        binary: server,
        args: [
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          "nodes.conf",
          "--cluster-node-timeout",
          "2000",
        ],
        port: () => findFreePort([CLUSTER_BUS_OFFSET]),
      }),
    ),
  );
  const nodes = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop()));
  };

  try {
    const failed = started.find((result) => result.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    await createCluster(cli, nodes);
    await waitUntilClusterIsReady(nodes);
  } catch (error) {
    await stop();
    throw error;
  }

  return Object.freeze({
    nodes: Object.freeze(nodes.map(({ host, port }) => Object.freeze({ host, port }))),
    stop,
  });
}

function createCluster(cli: string, nodes: readonly SpawnedRedis[]): Promise<void> {
  const args = [
    "--cluster",
    "create",
    ...nodes.map(({ host, port }) => `${host}:${port}`),
    "--cluster-replicas",
    "0",
    "--cluster-yes",
  ];
  return new Promise((resolve, reject) => {
    execFile(cli, args, { timeout: CREATE_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error === null) resolve();
      else {
        const output = `${stdout}${stderr}`.trim();
        reject(new Error(`\`redis-cli ${args.join(" ")}\` failed:\n${output}`, { cause: error }));
      }
    });
  });
}

async function waitUntilClusterIsReady(nodes: readonly SpawnedRedis[]): Promise<void> {
  // redis-cli returns once the nodes agree on the configuration; every node must also have
  // heard that all slots are covered, or a client may be redirected to a node that says no.
  await pollUntil(
    async () => {
      const infos = await Promise.all(
        nodes.map(({ host, port }) =>
          sendRedisCommand({ host, port }, ["CLUSTER", "INFO"], COMMAND_TIMEOUT_MS),
        ),
      );
      return infos.every((info) => isReady(parseInfo(info), nodes.length));
    },
    {
      waitingFor: `CLUSTER INFO to report cluster_state:ok on ${nodes.length} nodes`,
      timeoutMs: READY_TIMEOUT_MS,
    },
  );
}

function isReady(info: ReadonlyMap<string, string>, nodeCount: number): boolean {
  return (
    info.get("cluster_state") === "ok" &&
    info.get("cluster_slots_assigned") === String(SLOT_COUNT) &&
    info.get("cluster_known_nodes") === String(nodeCount)
  );
}

function parseInfo(text: string): ReadonlyMap<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

function resolveClusterOptions(options: StartRedisClusterOptions): { masters: number } {
  const { masters = MIN_MASTERS } = options;
  if (!(Number.isInteger(masters) && masters >= MIN_MASTERS)) {
    throw new TypeError(
      `Expected \`masters\` to be an integer of at least ${MIN_MASTERS} (redis-cli --cluster ` +
        `create needs that many), got \`${masters}\` (${typeof masters})`,
    );
  }
  return { masters };
}
