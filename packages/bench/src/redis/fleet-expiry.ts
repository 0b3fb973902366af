/**
 * How late the expiration handler runs while a fleet keeps creating sessions: 3 managers, each
 * on its own client and `RedisSessionStore`, share one Redis and one prefix, and each creates a
 * session every 20 ms for 3 s (about 450 sessions with a 2 s TTL). `cleanupInterval` is 250 ms.
 * Creates that land while a sweep is in flight are what once made handlers up to a TTL late.
 *
 * - ours: sweep-only (no keyspace events: the sweep timer alone finds expiry), and the full
 *   design (keyspace events plus the sweeper);
 * - baseline: a fixed-interval sweeper on raw ioredis, the usual pattern: the same creates as
 *   `SET … PX` plus `ZADD` to a due index, and on each of 3 clients a `setInterval` every
 *   `cleanupInterval` that reads what is due and claims each id with `ZREM`.
 */

import { randomUUID } from "node:crypto";
import type { RedisSessionStoreOptions } from "@mcp-sessions/session-redis";
import type { Redis } from "ioredis";
import {
  type BenchmarkGroup,
  compare,
  percentileOfSorted,
  type RepeatOptions,
  type Row,
  repeat,
} from "../harness.js";
import {
  type BenchRedis,
  INITIALIZE_PARAMS,
  INITIALIZE_PARAMS_JSON,
  withRedis,
} from "./fixtures.js";

const GROUP = "redis/fleet-expiry";
const INSTANCES = 3;
const TTL_MS = 2_000;
const CLEANUP_INTERVAL_MS = 250;
const CREATE_EVERY_MS = 20;
const CREATING_FOR_MS = 3_000;
/** Every handler must have run this long after the last deadline, or the run fails. */
const GIVE_UP_MS = 15_000;
const REPEAT: RepeatOptions = { warmup: 1, runs: 3 };
const RESOLUTION_MS = 1;

interface Lateness {
  readonly p50: number;
  readonly p99: number;
}

/** Lateness of each expected id, in ms, as it is reported; resolves once all are in. */
class Recorder {
  readonly #deadlines = new Map<string, number>();
  readonly #lateness: number[] = [];
  #creating = true;
  #resolve: () => void = () => {};
  readonly #done = new Promise<void>((resolve) => {
    this.#resolve = resolve;
  });

  expect(id: string, deadline: number): void {
    this.#deadlines.set(id, deadline);
  }

  ran(id: string): void {
    const deadline = this.#deadlines.get(id);
    if (deadline === undefined) return;
    this.#deadlines.delete(id);
    this.#lateness.push(Date.now() - deadline);
    this.#check();
  }

  /** Waits for every expected report once creating has stopped. */
  async settle(what: string): Promise<Lateness> {
    this.#creating = false;
    this.#check();
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), TTL_MS + GIVE_UP_MS);
    });
    const outcome = await Promise.race([this.#done, giveUp]);
    clearTimeout(timer);
    if (outcome === "late") {
      throw new Error(
        `${what}: ${this.#deadlines.size} handlers had not run ${GIVE_UP_MS} ms late`,
      );
    }
    const sorted = [...this.#lateness].sort((a, b) => a - b);
    return { p50: percentileOfSorted(sorted, 50), p99: percentileOfSorted(sorted, 99) };
  }

  #check(): void {
    if (!this.#creating && this.#deadlines.size === 0) this.#resolve();
  }
}

/** Runs `create` on each of `INSTANCES` workers every CREATE_EVERY_MS for CREATING_FOR_MS. */
async function createContinuously(create: (worker: number) => Promise<void>): Promise<void> {
  const stopAt = Date.now() + CREATING_FOR_MS;
  await Promise.all(
    Array.from({ length: INSTANCES }, async (_, worker) => {
      while (Date.now() < stopAt) {
        await create(worker);
        await new Promise((resolve) => setTimeout(resolve, CREATE_EVERY_MS));
      }
    }),
  );
}

async function measureOurs(
  redis: BenchRedis,
  storeOptions: Omit<RedisSessionStoreOptions, "client" | "url">,
): Promise<Lateness> {
  const recorder = new Recorder();
  // A fresh prefix per run: nothing of an earlier run is claimed in this one.
  const prefix = `bench-fleet-${randomUUID()}`;
  const fleet = await Promise.all(
    Array.from({ length: INSTANCES }, () =>
      redis.manager(
        redis.connect(),
        { enabled: true, ttl: TTL_MS, cleanupInterval: CLEANUP_INTERVAL_MS },
        { ...storeOptions, prefix },
      ),
    ),
  );
  for (const { manager } of fleet) manager.setExpirationHandler((id) => recorder.ran(id));
  try {
    await createContinuously(async (worker) => {
      const session = await fleet[worker]?.manager.create(INITIALIZE_PARAMS);
      if (session) recorder.expect(session.id, session.expiresAt);
    });
    return await recorder.settle("ours");
  } finally {
    await Promise.all(fleet.map((instance) => instance.close()));
  }
}

async function measureBaseline(clients: readonly Redis[]): Promise<Lateness> {
  const recorder = new Recorder();
  const due = `bench-raw:due:${randomUUID()}`;
  // Each instance sweeps on a plain interval: read what is due, claim each id with ZREM.
  const sweepers = clients.map((client) =>
    setInterval(async () => {
      const ids = await client.zrangebyscore(due, "-inf", Date.now());
      const claims = await Promise.all(ids.map((id) => client.zrem(due, id)));
      ids.forEach((id, index) => {
        if (claims[index] === 1) recorder.ran(id);
      });
    }, CLEANUP_INTERVAL_MS),
  );
  try {
    await createContinuously(async (worker) => {
      const id = `bench-raw:s:${randomUUID()}`;
      const deadline = Date.now() + TTL_MS;
      recorder.expect(id, deadline);
      await clients[worker]
        ?.multi()
        .set(id, INITIALIZE_PARAMS_JSON, "PX", TTL_MS)
        .zadd(due, deadline, id)
        .exec();
    });
    return await recorder.settle("baseline");
  } finally {
    for (const sweeper of sweepers) clearInterval(sweeper);
    await clients[0]?.del(due);
  }
}

export const redisFleetExpiry: BenchmarkGroup = {
  name: GROUP,
  run: () =>
    withRedis(async (redis) => {
      const label = `${INSTANCES} managers creating every ${CREATE_EVERY_MS} ms, ttl ${TTL_MS} ms, cleanupInterval ${CLEANUP_INTERVAL_MS} ms`;
      const sweepOnly = await repeat(`sweep-only @ ${label}`, REPEAT, () =>
        measureOurs(redis, { keyspaceEvents: "sweep-only" }),
      );
      const fullDesign = await repeat(`keyspace events + sweeper @ ${label}`, REPEAT, () =>
        measureOurs(redis, { keyspaceEvents: "configure" }),
      );
      const clients = Array.from({ length: INSTANCES }, () => redis.connect());
      const baseline = await repeat(`interval sweeper on raw ioredis @ ${label}`, REPEAT, () =>
        measureBaseline(clients),
      );
      const rows: Row[] = [];
      for (const [configuration, ours] of [
        ["sweep-only", sweepOnly],
        ["keyspace events + sweeper", fullDesign],
      ] as const) {
        for (const statistic of ["p50", "p99"] as const) {
          rows.push(
            compare(
              {
                group: GROUP,
                name: `expiry lateness ${statistic}, ${configuration} @ ${label}`,
                unit: "ms",
                better: "lower",
                baselineLabel: `raw ioredis SET PX + ZADD, a ZREM sweep every ${CLEANUP_INTERVAL_MS} ms per client`,
                resolution: RESOLUTION_MS,
              },
              ours.map((run) => run[statistic]),
              baseline.map((run) => run[statistic]),
            ),
          );
        }
      }
      return rows;
    }),
};
