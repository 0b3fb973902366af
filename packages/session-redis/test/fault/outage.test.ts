import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import { silentSendLog } from "@mcp-sessions/session-core";
import { startTcpProxy } from "@mcp-sessions/session-testing/redis";
import { afterEach, describe, expect, it } from "vitest";
import { RedisSessionStore } from "../../src/index.js";
import { makeDueSoon, OffsetClock } from "../support/clock.js";
import { spawnWithAdmin } from "../support/spawned.js";
import {
  eventually,
  type Outcome,
  outcomeOf,
  recordUnhandledRejections,
  StoreFleet,
  type StoreFleetInstance,
  sessionKeysUnder,
  unclaimedCount,
} from "../support/store-fleet.js";

const COMMAND_TIMEOUT_MS = 500;
const HOUR = 3_600_000;
const RECOVERY_WAIT = { timeout: 30_000, interval: 50 } as const;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function spawn(args: string[] = []): ReturnType<typeof spawnWithAdmin> {
  return spawnWithAdmin((cleanup) => cleanups.push(cleanup), args);
}

function fleetOn(url: string): StoreFleet {
  const fleet = new StoreFleet(url);
  cleanups.push(() => fleet.close());
  return fleet;
}

function unhandledRejections() {
  const recorder = recordUnhandledRejections();
  cleanups.push(async () => recorder.stop());
  return recorder;
}

interface Call {
  readonly instance: string;
  /** Which of the load's loops made the call. */
  readonly loop: number;
  readonly op: "register" | "get" | "touch";
  readonly startedAt: number;
  readonly settledAt: number;
  readonly outcome: Outcome<unknown>;
}

/**
 * Register, get (a session of the other instance) and touch in loops, recording every call,
 * until `stop()` resolves.
 */
class Load {
  readonly calls: Call[] = [];
  /** Ids whose register was attempted; a failed register may still have reached Redis. */
  readonly attempted = new Set<string>();
  /** Ids whose register resolved, so the session certainly exists. */
  readonly acked = new Set<string>();
  /** The latest deadline a resolved register or touch reported, by id. */
  readonly deadlines = new Map<string, number>();
  readonly #running: Promise<void>[] = [];
  #stopped = false;

  /** How many loops run. */
  get loops(): number {
    return this.#running.length;
  }

  /** Runs `loops` concurrent loops on each instance. */
  start(instances: readonly StoreFleetInstance[], loops: number): void {
    instances.forEach((instance, index) => {
      const peer = instances[(index + 1) % instances.length] as StoreFleetInstance;
      for (let loop = 0; loop < loops; loop++) {
        this.#running.push(this.#loop(this.#running.length, instance, peer));
      }
    });
  }

  /** The fewest calls any loop started at or after `since` and has seen settle. */
  fewestSettledSince(since: number): number {
    const perLoop = Array.from({ length: this.loops }, () => 0);
    for (const call of this.calls) {
      if (call.startedAt >= since) perLoop[call.loop] = (perLoop[call.loop] ?? 0) + 1;
    }
    return Math.min(...perLoop);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#running);
  }

  /** Successful registers on `instance` that started after `since`. */
  registeredSince(instance: StoreFleetInstance, since: number): number {
    return this.calls.filter(
      (call) =>
        call.instance === instance.name &&
        call.op === "register" &&
        call.startedAt > since &&
        call.outcome.status === "resolved",
    ).length;
  }

  async #loop(loop: number, instance: StoreFleetInstance, peer: StoreFleetInstance): Promise<void> {
    const own: string[] = [];
    const peerOwn = (): string | undefined =>
      [...this.acked].reverse().find((id) => id.startsWith(peer.name));
    while (!this.#stopped) {
      const id = `${instance.name}-${randomUUID()}`;
      this.attempted.add(id);
      const registered = await this.#call(loop, instance, "register", () =>
        instance.sessions.register(id),
      );
      if (registered.status === "resolved") {
        this.acked.add(id);
        this.deadlines.set(id, registered.value.expiresAt);
        own.push(id);
      }
      const peerId = peerOwn();
      if (peerId !== undefined) {
        await this.#call(loop, instance, "get", () => instance.sessions.get(peerId));
      }
      const ownId = own.at(-1);
      if (ownId !== undefined) {
        const touched = await this.#call(loop, instance, "touch", () =>
          instance.sessions.touch(ownId),
        );
        if (touched.status === "resolved" && touched.value !== undefined) {
          this.deadlines.set(ownId, touched.value.expiresAt);
        }
      }
      // Failures may come back at once; never spin.
      await delay(5);
    }
  }

  async #call<T>(
    loop: number,
    instance: StoreFleetInstance,
    op: Call["op"],
    call: () => Promise<T>,
  ): Promise<Outcome<T>> {
    const startedAt = Date.now();
    const outcome = await outcomeOf(call());
    const settledAt = Date.now();
    this.calls.push({ instance: instance.name, loop, op, startedAt, settledAt, outcome });
    return outcome;
  }
}

/** How each rejected call failed: its code, or the error's name when it carries no code. */
function failureKinds(calls: readonly Call[]): string[] {
  return [
    ...new Set(
      calls.flatMap((call) =>
        call.outcome.status === "rejected"
          ? [call.outcome.code ?? `untyped ${String(call.outcome.error)}`]
          : [],
      ),
    ),
  ];
}

describe("Redis outages", () => {
  it("fails ready() with STORE_UNAVAILABLE when Redis is unreachable at start-up, and still closes", async () => {
    const rejections = unhandledRejections();
    const { server } = await spawn();
    await server.kill();
    const store = new RedisSessionStore({
      url: server.url,
      prefix: `t-${randomUUID()}`,
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
      logger: silentSendLog,
    });
    cleanups.push(() => store.close());

    await expect(store.ready()).rejects.toMatchObject({
      code: "STORE_UNAVAILABLE",
      name: "StoreUnavailableError",
    });
    await expect(store.get("some-session", { now: Date.now() })).rejects.toMatchObject({
      code: "STORE_UNAVAILABLE",
    });
    await store.close();
    expect(rejections.reasons).toEqual([]);
  });

  it("subscribes once Redis comes up after a start-up outage", async () => {
    const rejections = unhandledRejections();
    const { server, admin } = await spawn();
    await server.kill();
    const prefix = `t-${randomUUID()}`;
    const store = new RedisSessionStore({
      url: server.url,
      prefix,
      commandTimeoutMs: COMMAND_TIMEOUT_MS,
      logger: silentSendLog,
    });
    cleanups.push(() => store.close());
    await expect(store.ready()).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });

    await server.restart();

    await expect
      .poll(
        async () => {
          const reply = (await admin.pubsub("NUMSUB", `${prefix}:events`).catch(() => [])) as [
            string,
            number,
          ];
          return Number(reply[1] ?? 0);
        },
        { timeout: 20_000, interval: 200 },
      )
      .toBe(1);
    await expect(store.ready()).resolves.toBeUndefined();
    expect(rejections.reasons).toEqual([]);
  });

  it("rejects with STORE_UNAVAILABLE while Redis is down, recovers by itself, and runs the handlers of sessions that expired meanwhile", async () => {
    const rejections = unhandledRejections();
    // An append-only file fsynced on every write, in the server's own dir, so the sessions
    // survive the kill and restart() reloads them.
    const { server, admin } = await spawn(["--appendonly", "yes", "--appendfsync", "always"]);
    const fleet = fleetOn(server.url);
    const options = {
      connection: "store",
      store: { commandTimeoutMs: COMMAND_TIMEOUT_MS },
      manager: { ttl: 1_500, cleanupInterval: 200 },
    } as const;
    const instances = await Promise.all([fleet.add(options), fleet.add(options)]);
    const handledAt = new Map<string, number>();
    for (const instance of instances) {
      instance.sessions.setExpirationHandler((id) => {
        instance.handled.push(id);
        handledAt.set(id, Date.now());
      });
    }
    const load = new Load();
    load.start(instances, 4);
    for (const instance of instances) {
      await expect.poll(() => load.registeredSince(instance, 0), RECOVERY_WAIT).toBeGreaterThan(5);
    }

    await server.kill();
    const killedAt = Date.now();
    // Redis stays down until every loop has seen two of its calls settle, so no call waits for
    // Redis to come back, and until a session's deadline has passed, unclaimable meanwhile.
    await expect
      .poll(
        () => ({
          everyLoopSettledTwoCalls: load.fewestSettledSince(killedAt) >= 2,
          aDeadlinePassed: [...load.deadlines.values()].some(
            (deadline) => deadline > killedAt && deadline < Date.now(),
          ),
        }),
        RECOVERY_WAIT,
      )
      .toEqual({ everyLoopSettledTwoCalls: true, aDeadlinePassed: true });
    const restartedAt = Date.now();
    await server.restart();

    for (const instance of instances) {
      await expect
        .poll(() => load.registeredSince(instance, restartedAt), RECOVERY_WAIT)
        .toBeGreaterThan(0);
    }
    await load.stop();

    const duringOutage = load.calls.filter(
      (call) => call.startedAt >= killedAt && call.settledAt <= restartedAt,
    );
    expect(duringOutage.length).toBeGreaterThan(10);
    expect(
      duringOutage.filter(
        (call) => call.outcome.status !== "rejected" || call.outcome.code !== "STORE_UNAVAILABLE",
      ),
    ).toEqual([]);
    expect(failureKinds(load.calls)).toEqual(["STORE_UNAVAILABLE"]);

    // Afterwards every operation works again, on both instances.
    for (const instance of instances) {
      const session = await instance.sessions.create();
      expect(await instance.sessions.touch(session.id)).toMatchObject({ id: session.id });
      expect(await instance.sessions.get(session.id)).toMatchObject({ id: session.id });
      load.acked.add(session.id);
      load.attempted.add(session.id);
    }
    // ...and so do the subscriptions: once both are back, a delete is heard across the fleet.
    const [a, b] = instances;
    if (!a || !b) throw new Error("two instances expected");
    await expect
      .poll(async () => admin.pubsub("NUMSUB", `${fleet.prefix}:events`), RECOVERY_WAIT)
      .toEqual([`${fleet.prefix}:events`, 2]);
    const deleted = await a.sessions.create();
    expect(await b.sessions.cleanup(deleted.id)).toBe(true);
    await expect.poll(() => a.endedCount(deleted.id, "destroyed"), RECOVERY_WAIT).toBe(1);

    // Every session expires in the end: each handler runs exactly once across the fleet.
    await expect
      .poll(() => [...load.acked].filter((id) => !handledAt.has(id)).length, RECOVERY_WAIT)
      .toBe(0);
    await expect.poll(() => unclaimedCount(admin, fleet.prefix), RECOVERY_WAIT).toBe(0);
    const runs = fleet.handlerRuns();
    expect([...runs].filter(([, count]) => count !== 1)).toEqual([]);
    // A register that failed at the kill may still have been written; nothing else may expire.
    expect([...runs.keys()].filter((id) => !load.attempted.has(id))).toEqual([]);

    // Sessions whose deadline passed while Redis was down got their handler after it returned.
    // Redis holds a key until its deadline and was down from then on: nobody could claim these.
    const expiredDuringOutage = [...load.deadlines]
      .filter(([, deadline]) => deadline > killedAt && deadline < restartedAt)
      .map(([id]) => id);
    expect(expiredDuringOutage.length).toBeGreaterThan(0);
    expect(expiredDuringOutage.filter((id) => (handledAt.get(id) ?? 0) < restartedAt)).toEqual([]);

    expect(rejections.reasons).toEqual([]);
  });

  it("keeps expiring sessions while the network is cut, and runs each handler once when it returns", async () => {
    const rejections = unhandledRejections();
    const { server, admin } = await spawn();
    const proxy = await startTcpProxy(server);
    cleanups.push(() => proxy.close());
    const fleet = fleetOn(proxy.url);
    // An hour's ttl: nothing expires, and nothing is claimed, before the network is cut.
    const options = {
      connection: "store",
      store: { commandTimeoutMs: COMMAND_TIMEOUT_MS },
      manager: { ttl: HOUR, cleanupInterval: 200 },
    } as const;
    const [a, b] = await Promise.all([fleet.add(options), fleet.add(options)]);
    if (!a || !b) throw new Error("two instances expected");
    // On the far side of the cut, an instance that gives the sessions their deadlines once the
    // network is down. It claims nothing itself: it neither sweeps nor hears expired keys.
    const setterClock = new OffsetClock();
    const setter = await fleet.add({
      url: server.url,
      store: { keyspaceEvents: "sweep-only" },
      manager: { ttl: HOUR, enabled: false, clock: setterClock },
    });
    const created = await Promise.all(
      Array.from({ length: 100 }, (_, index) => (index % 2 === 0 ? a : b).sessions.create()),
    );
    const ids = created.map((session) => session.id);

    proxy.pause();
    const calls = await Promise.all(
      [a, b].flatMap((instance) => [
        outcomeOf(instance.sessions.get(ids[0] as string)),
        outcomeOf(instance.sessions.touch(ids[1] as string)),
        outcomeOf(instance.sessions.create()),
        outcomeOf(instance.sessions.cleanup(ids[2] as string)),
      ]),
    );
    expect(calls.map((call) => call.status === "rejected" && call.code)).toEqual(
      calls.map(() => "STORE_UNAVAILABLE"),
    );
    await makeDueSoon(setter.sessions, setterClock, ids);
    // Redis, still running, removes every session hash at its deadline, but nobody can claim.
    await expect.poll(() => sessionKeysUnder(admin, fleet.prefix), RECOVERY_WAIT).toEqual([]);
    expect(await unclaimedCount(admin, fleet.prefix)).toBe(ids.length);
    expect(fleet.handlerRunCount()).toBe(0);

    proxy.resume();

    await expect
      .poll(() => fleet.handlerRunCount(), RECOVERY_WAIT)
      .toBeGreaterThanOrEqual(ids.length);
    await expect.poll(() => unclaimedCount(admin, fleet.prefix), RECOVERY_WAIT).toBe(0);
    const runs = fleet.handlerRuns();
    expect(ids.filter((id) => runs.get(id) !== 1)).toEqual([]);
    expect(fleet.handlerRunCount()).toBe(ids.length);
    // And the store works again without any help, on both instances, once each has reconnected
    // (ioredis backs off between attempts, so one may come back later than the other).
    const session = await eventually(() => a.sessions.create());
    expect(await eventually(() => b.sessions.touch(session.id))).toMatchObject({ id: session.id });

    expect(rejections.reasons).toEqual([]);
  });
});
