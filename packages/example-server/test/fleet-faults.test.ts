import type { RoundRobinProxy } from "@mcp-sessions/session-testing/http";
import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { deferred, within } from "@mcp-sessions/session-testing/wait";
import { ElicitRequestSchema, type ElicitResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EVENT_BOUND_MS } from "./support/event-bound.js";
import {
  type ExampleFleet,
  named,
  startExampleFleet,
  startProxy,
} from "./support/example-fleet.js";
import type { ExampleServerProcess } from "./support/example-server-process.js";
import {
  ANSWERING,
  CONFIRMED,
  type ConnectOptions,
  connectWithStream,
  labelled,
} from "./support/mcp-client.js";
import {
  addRequest,
  deleteSession,
  errorCodeOf,
  health,
  initializeRequest,
  post,
  responseTo,
} from "./support/mcp-http.js";
import { redisCall, relaySubscribers } from "./support/redis-admin.js";

// Faults a fleet must outlive: an instance killed while its elicitation waits for the client,
// the relay's pub/sub connections killed, Redis down for a while. Each test leaves its fleet or
// its Redis damaged, so each starts a fleet of its own on this file's own redis-server.
const TTL_MS = 60_000;
const CLEANUP_INTERVAL_MS = 500;
/** How long a fleet-wide signal, or a reconnect to Redis, may take. */
const SIGNAL_BOUND_MS = EVENT_BOUND_MS;
/** The message session-mcp's fleet logs for a server message that could not cross the relay. */
const LOST_STANDALONE = "A server message outside any request was lost: the relay failed";
/** Log levels that mean something went wrong in the server itself, not around it. */
const FAILURE_LEVELS = new Set(["error", "critical", "alert", "emergency"]);

let redis: SpawnedRedis | undefined;
const cleanups: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  redis = await spawnRedisServer();
});

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

afterAll(async () => {
  await redis?.stop();
});

function theRedis(): SpawnedRedis {
  if (redis === undefined) throw new Error("redis-server did not start");
  return redis;
}

/** A fleet of two on this file's Redis behind a round-robin proxy, both stopped after the test. */
async function startFleetBehindProxy(): Promise<{ fleet: ExampleFleet; lb: RoundRobinProxy }> {
  const fleet = await startExampleFleet({
    redisUrl: theRedis().url,
    ttlMs: TTL_MS,
    cleanupIntervalMs: CLEANUP_INTERVAL_MS,
  });
  cleanups.push(() => fleet.stop());
  const lb = await startProxy(fleet.instances);
  cleanups.push(() => lb.close());
  return { fleet, lb };
}

/** The SDK client through `lb`, its GET stream open; closed after the test. */
async function connectThrough(lb: RoundRobinProxy, options: ConnectOptions) {
  const connected = await connectWithStream(lb, options);
  cleanups.push(() => connected.client.close());
  return connected;
}

/** The warnings session-mcp's fleet logged: a message it could not pass on through the relay. */
function relayWarnings(instance: ExampleServerProcess) {
  return instance
    .logs()
    .filter((entry) => entry.logger === "session-mcp/fleet" && entry.level === "warning");
}

/** What a test expects of every instance after a fault: alive, and nothing failed inside it. */
function expectUnharmed(instance: ExampleServerProcess): void {
  expect(instance.running(), instance.name).toBe(true);
  expect(instance.stderr(), instance.name).not.toMatch(/unhandled|uncaught/i);
  const failures = instance.logs().filter((entry) => FAILURE_LEVELS.has(entry.level));
  expect(failures, instance.name).toEqual([]);
}

describe("a fleet of example-server processes under faults", () => {
  it("fails a call whose instance was SIGKILLed mid-elicitation, answers the late reply 410, and serves on", async () => {
    const { fleet, lb } = await startFleetBehindProxy();
    const asked = deferred();
    const reply = deferred<ElicitResult>();
    const { client, sessionId } = await connectThrough(lb, {
      capabilities: { elicitation: {} },
      prepare: (client) =>
        client.setRequestHandler(ElicitRequestSchema, async () => {
          asked.resolve();
          return reply.promise;
        }),
    });
    // Nobody can answer the call once its instance is gone; the client gives up on it below.
    const giveUp = new AbortController();
    const outcome = client
      .callTool({ name: "confirm", arguments: { question: "Still there?" } }, undefined, {
        signal: giveUp.signal,
      })
      .then(
        () => new Error("The call succeeded though the instance running it was killed"),
        (error: unknown) => error,
      );
    await within(asked.promise, { waitingFor: "the elicitation", timeoutMs: SIGNAL_BOUND_MS });

    const [toolCall] = labelled(lb.requests, sessionId, "tools/call");
    const asker = named(fleet.instances, toolCall?.upstream);
    const survivor = asker === fleet.a ? fleet.b : fleet.a;
    cleanups.push(() => deleteSession(survivor.url, sessionId));
    await asker.kill();
    // Redis has dropped the dead instance's subscription: nobody listens for the reply now.
    await expect
      .poll(async () => (await relaySubscribers(theRedis().url, fleet.prefix)).length, {
        timeout: SIGNAL_BOUND_MS,
      })
      .toBe(1);
    reply.resolve(CONFIRMED);

    // The reply lands on the survivor (the GET stream is there too), which cannot deliver it.
    await expect
      .poll(() => labelled(lb.requests, sessionId, "response")[0]?.status, {
        timeout: SIGNAL_BOUND_MS,
      })
      .toBe(410);
    expect(labelled(lb.requests, sessionId, "response")[0]?.upstream).toBe(survivor.name);
    expect(labelled(lb.requests, sessionId, "stream")[0]?.upstream).toBe(survivor.name);
    // The client gives up only now, as a request timeout would: its cancellation, one more
    // request through the proxy, cannot take the reply's turn however slow the steps above.
    const reason = "The instance running the call is gone";
    giveUp.abort(reason);
    const error = await within(outcome, {
      waitingFor: "the call failing",
      timeoutMs: SIGNAL_BOUND_MS,
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ message: expect.stringContaining(reason) });

    // The survivor serves the session as before.
    const sum = await post(survivor.url, addRequest(1, 2, 3), { sessionId });
    expect(sum.status).toBe(200);
    expect(responseTo(sum, 1)?.result).toMatchObject({ structuredContent: { sum: 5 } });
    expectUnharmed(survivor);
  });

  it("delivers a reply sent after the relay's pub/sub connections were killed and came back", async () => {
    const { fleet, lb } = await startFleetBehindProxy();
    const asked = deferred();
    const reply = deferred<ElicitResult>();
    const { client, sessionId } = await connectThrough(lb, {
      capabilities: { elicitation: {} },
      prepare: (client) =>
        client.setRequestHandler(ElicitRequestSchema, async () => {
          asked.resolve();
          return reply.promise;
        }),
    });
    cleanups.push(() => deleteSession(fleet.a.url, sessionId));
    const call = client.callTool({ name: "confirm", arguments: { question: "After a blip?" } });
    await within(asked.promise, { waitingFor: "the elicitation", timeoutMs: SIGNAL_BOUND_MS });

    const before = await relaySubscribers(theRedis().url, fleet.prefix);
    expect(before).toHaveLength(2);
    // Every pub/sub connection: the relay's and the ones listening for ended sessions.
    expect(
      Number(await redisCall(theRedis().url, "CLIENT", "KILL", "TYPE", "pubsub")),
    ).toBeGreaterThanOrEqual(2);
    // ioredis reconnects and subscribes again: new connections, on as many channels as before.
    const oldIds = new Set(before.map((subscriber) => subscriber.id));
    await expect
      .poll(
        async () => {
          const now = await relaySubscribers(theRedis().url, fleet.prefix);
          return {
            fresh: now.filter((subscriber) => !oldIds.has(subscriber.id)).length,
            channels: now.map((subscriber) => subscriber.channels).sort(),
          };
        },
        { timeout: SIGNAL_BOUND_MS, interval: 100 },
      )
      .toEqual({ fresh: 2, channels: before.map((subscriber) => subscriber.channels).sort() });
    reply.resolve(CONFIRMED);

    const result = await within(call, {
      waitingFor: "the call completing",
      timeoutMs: SIGNAL_BOUND_MS,
    });
    expect(result.structuredContent).toEqual({ action: "accept", confirmed: true });
    const [toolCall] = labelled(lb.requests, sessionId, "tools/call");
    const [answer] = labelled(lb.requests, sessionId, "response");
    expect(answer?.upstream).not.toBe(toolCall?.upstream);
    // Accepted once the relay took it: the result it unblocked may reach the client first.
    await expect.poll(() => answer?.status, { timeout: SIGNAL_BOUND_MS }).toBe(202);
    for (const instance of fleet.instances) expectUnharmed(instance);
  });

  it("answers 503 with Retry-After while Redis is down, and serves new sessions once it is back", async () => {
    const { fleet, lb } = await startFleetBehindProxy();
    const subscribersBefore = await relaySubscribers(theRedis().url, fleet.prefix);
    const { client, sessionId } = await connectThrough(lb, {});
    // A notification from the instance without the GET stream has to cross the relay, and here
    // cannot: its loss is a warning, not a crash. Every request touches the session in Redis
    // first, so none can start one while Redis is down, and a timer set before the kill may fire
    // before it. So Redis refuses to publish from before the call on, which fails the relay just
    // as surely, whatever the machine's speed; the call itself publishes nothing.
    expect(
      await redisCall(theRedis().url, "ACL", "SETUSER", "default", "-publish", "-spublish"),
    ).toBe("OK");
    await client.callTool({
      name: "notify_later",
      arguments: { message: "Into the void", delayMs: 0 },
    });
    const [toolCall] = labelled(lb.requests, sessionId, "tools/call");
    const sender = named(fleet.instances, toolCall?.upstream);
    await expect
      .poll(() => relayWarnings(sender).map((entry) => entry.data.message), {
        timeout: SIGNAL_BOUND_MS,
      })
      .toEqual([LOST_STANDALONE]);
    // Publishing is allowed again: the outage below is the kill's alone.
    await redisCall(theRedis().url, "ACL", "SETUSER", "default", "+publish", "+spublish");

    await theRedis().kill();
    // Each waits for Redis at most the store's command timeout, then gives up.
    const refused = await Promise.all(
      fleet.instances.flatMap((instance) => [
        post(instance.url, addRequest(2, 1, 1), { sessionId }),
        post(instance.url, initializeRequest()),
      ]),
    );
    for (const reply of refused) {
      expect(reply.status).toBe(503);
      expect(reply.headers.get("retry-after")).toBe("1");
      expect(errorCodeOf(reply)).toBe(-32000);
    }
    for (const instance of fleet.instances) {
      expect(await health(instance.url), instance.name).toEqual({
        status: 503,
        body: { status: "degraded", store: "redis", error: "STORE_UNAVAILABLE" },
      });
    }
    await theRedis().restart();
    for (const instance of fleet.instances) {
      await expect
        .poll(async () => (await health(instance.url)).status, { timeout: SIGNAL_BOUND_MS })
        .toBe(200);
    }
    // The restarted Redis is empty: the old session is gone, on every instance.
    for (const instance of fleet.instances) {
      const reply = await post(instance.url, addRequest(3, 1, 1), { sessionId });
      expect(reply.status, instance.name).toBe(404);
      expect(errorCodeOf(reply), instance.name).toBe(-32001);
    }
    // Both relays subscribed again, so a new session works across the fleet, replies included.
    await expect
      .poll(
        async () =>
          (await relaySubscribers(theRedis().url, fleet.prefix)).map(
            (subscriber) => subscriber.channels,
          ),
        {
          timeout: SIGNAL_BOUND_MS,
          interval: 100,
        },
      )
      .toEqual(subscribersBefore.map((subscriber) => subscriber.channels));
    const after = await connectThrough(lb, ANSWERING);
    cleanups.push(() => deleteSession(fleet.a.url, after.sessionId));
    const result = await after.client.callTool({
      name: "confirm",
      arguments: { question: "Back?" },
    });
    expect(result.structuredContent).toEqual({ action: "accept", confirmed: true });
    const [confirmCall] = labelled(lb.requests, after.sessionId, "tools/call");
    const [answer] = labelled(lb.requests, after.sessionId, "response");
    expect(answer?.upstream).not.toBe(confirmCall?.upstream);

    for (const instance of fleet.instances) expectUnharmed(instance);
  });
});
