import type { ProxiedRequest, RoundRobinProxy } from "@mcp-sessions/session-testing/http";
import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { deferred, within } from "@mcp-sessions/session-testing/wait";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  type Progress,
} from "@modelcontextprotocol/sdk/types.js";
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
  type ConnectOptions,
  connectWithStream,
  labelled,
  labellingFetch,
} from "./support/mcp-client.js";
import {
  addRequest,
  deleteSession,
  errorCodeOf,
  health,
  initializeRequest,
  initializeSession,
  openStream,
  post,
  responseTo,
} from "./support/mcp-http.js";

// `node dist/main.js` processes share one private redis-server, as a fleet behind a load
// balancer does. The main fleet (A, B, C) has a long TTL, so nothing expires while a test runs
// and an open stream's keep-alive touch (every TTL/3 = 200 s) cannot be what ends a session there;
// most tests reach A and B through one round-robin proxy, the three-instance test all three
// through another. The expiry fleet has a short TTL, measured for this machine, and serves only
// the expiry test; the resumable fleet runs with RESUMABLE=1.
const TTL_MS = 600_000;
const CLEANUP_INTERVAL_MS = 500;
/** How long a fleet-wide signal (`ended` over Redis pub/sub) may take, far below any keep-alive. */
const SIGNAL_BOUND_MS = EVENT_BOUND_MS;
/** The expiry fleet's TTL is at least this, however fast the machine. */
const EXPIRY_TTL_FLOOR_MS = 3_000;
/** The expiry fleet's TTL is this many times what the expiry test's setup took on the main fleet. */
const EXPIRY_TTL_MARGIN = 20;
/** The expiry test's timeout: its TTL grows with the machine's slowness. */
const EXPIRY_TEST_TIMEOUT_MS = 180_000;
/** Every tool the example serves, sorted. */
const TOOL_NAMES = ["add", "ask_model", "confirm", "countdown", "notify_later", "wait_for_cancel"];
/** Log levels below `warning`. */
const ROUTINE_LEVELS = new Set(["debug", "info", "notice"]);

let redis: SpawnedRedis | undefined;
let fleet: ExampleFleet | undefined;
let expiryFleet: ExampleFleet | undefined;
let resumableFleet: ExampleFleet | undefined;
let proxy: RoundRobinProxy | undefined;
let proxyOfThree: RoundRobinProxy | undefined;
let resumableProxy: RoundRobinProxy | undefined;

beforeAll(async () => {
  const spawned = await spawnRedisServer();
  redis = spawned;
  const common = { redisUrl: spawned.url, cleanupIntervalMs: CLEANUP_INTERVAL_MS };
  const [main, resumable] = await Promise.allSettled([
    startExampleFleet({ ...common, ttlMs: TTL_MS, size: 3 }),
    startExampleFleet({ ...common, ttlMs: TTL_MS, env: { RESUMABLE: "1" } }),
  ]);
  if (main.status === "fulfilled") fleet = main.value;
  if (resumable.status === "fulfilled") resumableFleet = resumable.value;
  for (const started of [main, resumable]) {
    if (started.status === "rejected") throw started.reason;
  }
  proxy = await startProxy(mainFleet().instances.slice(0, 2));
  proxyOfThree = await startProxy(mainFleet().instances);
  resumableProxy = await startProxy(theResumableFleet().instances);
});

afterAll(async () => {
  const stopped = await Promise.allSettled([
    proxy?.close(),
    proxyOfThree?.close(),
    resumableProxy?.close(),
    fleet?.stop(),
    expiryFleet?.stop(),
    resumableFleet?.stop(),
  ]);
  // Redis last: an instance shutting down still talks to it.
  await redis?.stop();
  const failure = stopped.find((result) => result.status === "rejected");
  if (failure !== undefined) throw failure.reason;
});

const cleanups: Array<() => Promise<unknown>> = [];

/** Per instance, how many of its log entries earlier tests already looked at. */
const logsSeen = new Map<ExampleServerProcess, number>();

afterEach(async () => {
  // Last opened, first closed: streams and clients before the sessions they use.
  while (cleanups.length > 0) await cleanups.pop()?.();
  // Serving, refusing and ending sessions is all routine: no instance warns about any of it.
  const instances = [fleet, expiryFleet, resumableFleet].flatMap((each) => each?.instances ?? []);
  const warnings: string[] = [];
  for (const instance of instances) {
    const logs = instance.logs();
    for (const entry of logs.slice(logsSeen.get(instance) ?? 0)) {
      if (!ROUTINE_LEVELS.has(entry.level))
        warnings.push(`${instance.name}: ${JSON.stringify(entry)}`);
    }
    logsSeen.set(instance, logs.length);
  }
  expect(warnings).toEqual([]);
});

function theRedis(): SpawnedRedis {
  if (redis === undefined) throw new Error("redis-server did not start");
  return redis;
}

function mainFleet(): ExampleFleet {
  if (fleet === undefined) throw new Error("The main fleet did not start");
  return fleet;
}

function theResumableFleet(): ExampleFleet {
  if (resumableFleet === undefined) throw new Error("The resumable fleet did not start");
  return resumableFleet;
}

function theProxy(which: RoundRobinProxy | undefined = proxy): RoundRobinProxy {
  if (which === undefined) throw new Error("The proxy did not start");
  return which;
}

/** The SDK client through `lb`, closed and its session ended after the test. */
async function connectThrough(lb: RoundRobinProxy, options: ConnectOptions = {}) {
  const connected = await connectWithStream(lb, options);
  cleanups.push(() => connected.client.close());
  cleanups.push(() => connected.transport.terminateSession());
  return connected;
}

/**
 * Every reply was accepted (202). The instance answers once the relay took the reply, so the
 * tool's result, which the reply unblocked, may reach the client before that answer does.
 */
async function expectAccepted(replies: readonly ProxiedRequest[]): Promise<void> {
  await expect
    .poll(() => replies.map((reply) => reply.status), { timeout: SIGNAL_BOUND_MS })
    .toEqual(replies.map(() => 202));
}

/** The log entries of `wait_for_cancel` calls cancelled on this instance. */
function cancellations(instance: ExampleServerProcess) {
  return instance
    .logs()
    .filter(
      (entry) =>
        entry.logger === "example-server/tools" &&
        entry.data.message === "Tool cancelled" &&
        entry.data.tool === "wait_for_cancel",
    );
}

/** Ends the session at the end of the test, through `url`, unless the test ended it. */
function deleteAfterwards(url: string, sessionId: string): void {
  cleanups.push(() => deleteSession(url, sessionId));
}

/** How many times this instance logged a session ending for `reason`. */
function endedCount(instance: ExampleServerProcess, reason: "expired" | "destroyed"): number {
  return instance
    .logs()
    .filter(
      (entry) =>
        entry.logger === "example-server/app" &&
        entry.data.message === "Session ended" &&
        entry.data.reason === reason,
    ).length;
}

/**
 * The expiry test's setup on `fleet`: a session initialized on A and adopted by B (its last
 * touch), then each instance's health. Returns the session id and what each step answered.
 */
async function sessionOnAAndB(fleet: ExampleFleet) {
  const { a, b } = fleet;
  const sessionId = await initializeSession(a.url);
  const onB = await post(b.url, addRequest(1, 1, 2), { sessionId });
  const healths = [await health(a.url), await health(b.url)];
  return { sessionId, onB, healths };
}

async function expectBothHealthy(): Promise<void> {
  const { a, b } = mainFleet();
  for (const instance of [a, b]) {
    expect(await health(instance.url), instance.name).toMatchObject({
      status: 200,
      body: { status: "ok", store: "redis" },
    });
  }
}

describe("two example-server processes on one Redis", () => {
  it("start as one fleet on the redis store", () => {
    const { a, b } = mainFleet();
    expect([a.store, b.store]).toEqual(["redis", "redis"]);
    expect(a.port).not.toBe(b.port);
  });

  it("serve a whole session to the SDK client through a round-robin proxy, alternating", async () => {
    const lb = theProxy();
    const first = lb.requests.length;
    const client = new Client({ name: "fleet-test", version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(new URL(lb.url));
    await client.connect(transport);
    cleanups.push(() => client.close());
    const sessionId = transport.sessionId;
    expect(sessionId).toEqual(expect.any(String));
    expect(client.getServerVersion()).toEqual({ name: "example-server", version: "0.0.0" });

    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(TOOL_NAMES);

    const sum = await client.callTool({ name: "add", arguments: { a: 20, b: 22 } });
    expect(sum.structuredContent).toEqual({ sum: 42 });

    // Progress travels on the POST's own SSE response, through the proxy. (That it passes as it
    // is written, not once the response ends, the cancellation test shows: there the call cannot
    // end before its progress has arrived.)
    const progress: Progress[] = [];
    const countdownRequest = lb.requests.length;
    const countdown = await client.callTool(
      { name: "countdown", arguments: { from: 5 } },
      undefined,
      { onprogress: (update) => progress.push(update) },
    );
    expect(countdown.content).toEqual([{ type: "text", text: "Counted down from 5: liftoff!" }]);
    expect(progress).toEqual(
      [4, 3, 2, 1, 0].map((left, step) => ({ progress: step + 1, total: 5, message: `${left}` })),
    );
    expect(lb.requests[countdownRequest]).toMatchObject({ method: "POST", status: 200 });
    // The result may reach the client before the proxy has seen the instance's response end.
    await expect
      .poll(() => lb.requests[countdownRequest]?.ended, { timeout: SIGNAL_BOUND_MS })
      .toBe(true);

    const info = await client.readResource({ uri: "info://server" });
    expect(info.contents).toEqual([
      {
        uri: "info://server",
        mimeType: "application/json",
        text: JSON.stringify({ name: "example-server", version: "0.0.0" }),
      },
    ]);
    const greeting = await client.readResource({ uri: "greeting://Fleet" });
    expect(greeting.contents).toEqual([
      { uri: "greeting://Fleet", mimeType: "text/plain", text: "Hello, Fleet!" },
    ]);

    const prompt = await client.getPrompt({ name: "summarize", arguments: { text: "Two nodes." } });
    expect(prompt.messages).toEqual([
      {
        role: "user",
        content: {
          type: "text",
          text: "Summarize the following text in one short paragraph:\n\nTwo nodes.",
        },
      },
    ]);

    await transport.terminateSession();
    expect(transport.sessionId).toBeUndefined();

    const served = lb.requests.slice(first);
    // initialize, initialized, GET stream, tools/list, add, countdown, 2 reads, prompt, DELETE.
    expect(served.length).toBeGreaterThanOrEqual(10);
    const order = served.map((request) => request.upstream);
    const [start, next] = order[0] === "A" ? ["A", "B"] : ["B", "A"];
    expect(order).toEqual(order.map((_, index) => (index % 2 === 0 ? start : next)));
    // Both instances served requests of this session: each adopted it or made it.
    const inSession = served.filter((request) => request.sessionId === sessionId);
    expect(new Set(inSession.map((request) => request.upstream))).toEqual(new Set(["A", "B"]));
    const posts = served.filter((request) => request.method === "POST");
    expect(posts.filter((request) => request.status !== 200 && request.status !== 202)).toEqual([]);
    // The GET stream's headers passed through at once, though no event had been sent on it.
    expect(served.find((request) => request.method === "GET")?.status).toBe(200);
    expect(served.find((request) => request.method === "DELETE")?.status).toBe(200);
  });

  it("serve on B a session initialized on A", async () => {
    const { a, b } = mainFleet();
    const sessionId = await initializeSession(a.url);
    deleteAfterwards(a.url, sessionId);

    const onB = await post(b.url, addRequest(1, 2, 3), { sessionId });
    expect(onB.status).toBe(200);
    expect(onB.headers.get("mcp-session-id")).toBe(sessionId);
    expect(responseTo(onB, 1)?.result).toMatchObject({ structuredContent: { sum: 5 } });

    // And back on A, which made it: both serve the one session.
    const onA = await post(a.url, addRequest(2, 4, 5), { sessionId });
    expect(onA.status).toBe(200);
    expect(responseTo(onA, 2)?.result).toMatchObject({ structuredContent: { sum: 9 } });
  });

  it("answer 404 (-32001) on A for a session deleted through B", async () => {
    const { a, b } = mainFleet();
    const sessionId = await initializeSession(a.url);
    expect((await post(a.url, addRequest(1, 1, 1), { sessionId })).status).toBe(200);

    const deleted = await deleteSession(b.url, sessionId);
    expect(deleted.status).toBe(200);

    for (const instance of [a, b]) {
      const reply = await post(instance.url, addRequest(2, 1, 1), { sessionId });
      expect(reply.status, instance.name).toBe(404);
      expect(errorCodeOf(reply), instance.name).toBe(-32001);
    }
    // Deleted once: a second DELETE finds nothing.
    expect((await deleteSession(a.url, sessionId)).status).toBe(404);
  });

  it("close a session's stream on A when B deletes the session", async () => {
    const { a, b } = mainFleet();
    const sessionId = await initializeSession(a.url);
    const stream = await within(openStream(a.url, sessionId), {
      waitingFor: "A opening a stream",
      timeoutMs: SIGNAL_BOUND_MS,
    });
    cleanups.push(async () => stream.abort());
    // Another session's stream on A, which must stay open: A closes only what ended.
    const otherId = await initializeSession(a.url);
    deleteAfterwards(a.url, otherId);
    const other = await within(openStream(a.url, otherId), {
      waitingFor: "A opening a stream",
      timeoutMs: SIGNAL_BOUND_MS,
    });
    cleanups.push(async () => other.abort());
    const destroyedOnA = endedCount(a, "destroyed");

    expect((await deleteSession(b.url, sessionId)).status).toBe(200);

    // Only `ended` from Redis tells A: B never held this session, and A's own keep-alive touch
    // is 20 s away. A closing its transport and server ends the stream.
    await within(stream.ended, {
      waitingFor: "the stream on A ending",
      timeoutMs: SIGNAL_BOUND_MS,
    });
    // Its log line travels on another pipe than the stream: it may come a little later.
    await expect
      .poll(() => endedCount(a, "destroyed"), { timeout: SIGNAL_BOUND_MS })
      .toBe(destroyedOnA + 1);
    expect(other.hasEnded()).toBe(false);

    expect((await deleteSession(a.url, otherId)).status).toBe(200);
    await within(other.ended, {
      waitingFor: "the other stream on A ending",
      timeoutMs: SIGNAL_BOUND_MS,
    });
  });

  it(
    "expire an idle session on both instances, each hearing that it ended",
    async () => {
      // The setup below must be done before the session expires, however slow the machine: so
      // the TTL comes from timing the same requests on the main fleet, whose instances are as
      // fresh, here and now.
      const started = performance.now();
      const rehearsal = await sessionOnAAndB(mainFleet());
      const setupMs = performance.now() - started;
      expect((await deleteSession(mainFleet().a.url, rehearsal.sessionId)).status).toBe(200);
      const ttlMs = Math.max(EXPIRY_TTL_FLOOR_MS, Math.ceil(EXPIRY_TTL_MARGIN * setupMs));
      expiryFleet = await startExampleFleet({
        redisUrl: theRedis().url,
        ttlMs,
        cleanupIntervalMs: CLEANUP_INTERVAL_MS,
      });
      const { a, b } = expiryFleet;
      const { sessionId, onB, healths } = await sessionOnAAndB(expiryFleet);
      // B adopted it: now both instances hold a transport for it.
      expect(onB.status).toBe(200);
      for (const [index, instance] of [a, b].entries()) {
        expect(healths[index]?.body, instance.name).toMatchObject({ activeSessions: 1 });
      }
      const expiredBefore = [endedCount(a, "expired"), endedCount(b, "expired")];

      // Idle from here on: nothing below touches the session until both count it gone. Its last
      // touch was on B above, so it expires within `ttlMs` from now, the handler runs within a
      // cleanup interval of that, and `ended` crosses the fleet within a signal's bound.
      const expiryBoundMs = ttlMs + CLEANUP_INTERVAL_MS + SIGNAL_BOUND_MS;
      for (const instance of [a, b]) {
        await expect
          .poll(async () => (await health(instance.url)).body, {
            timeout: expiryBoundMs,
            interval: 200,
          })
          .toEqual({ status: "ok", store: "redis", activeSessions: 0 });
      }
      // Each instance heard `ended` for it, which closes its local transport and server.
      await expect
        .poll(() => [endedCount(a, "expired"), endedCount(b, "expired")], {
          timeout: expiryBoundMs,
          interval: 100,
        })
        .toEqual(expiredBefore.map((count) => count + 1));

      for (const instance of [a, b]) {
        const reply = await post(instance.url, addRequest(2, 1, 2), { sessionId });
        expect(reply.status, instance.name).toBe(404);
        expect(errorCodeOf(reply), instance.name).toBe(-32001);
      }
    },
    EXPIRY_TEST_TIMEOUT_MS,
  );

  it("refuse bad requests through the proxy with 4xx, and both keep serving", async () => {
    const lb = theProxy();
    const sessionId = await initializeSession(lb.url);
    deleteAfterwards(lb.url, sessionId);
    const before = lb.requests.length;

    const badRequests = [
      {
        what: "malformed JSON",
        send: () => post(lb.url, '{"jsonrpc":"2.0","id":1,"method":', { sessionId }),
        status: 400,
        code: -32700,
      },
      {
        what: "an Accept without text/event-stream",
        send: () =>
          post(
            lb.url,
            { jsonrpc: "2.0", id: 2, method: "tools/list" },
            { sessionId, headers: { accept: "application/json" } },
          ),
        status: 406,
        code: -32000,
      },
      {
        what: "a 10 KB session id",
        send: () => post(lb.url, addRequest(3, 1, 1), { sessionId: "x".repeat(10_240) }),
        status: 400,
        code: -32000,
      },
      {
        what: "initialize replayed on a live session",
        send: () => post(lb.url, initializeRequest(), { sessionId }),
        status: 400,
        code: -32600,
      },
    ];
    // Each one twice in a row: the proxy sends one to A and the other to B.
    for (const bad of badRequests) {
      for (let attempt = 0; attempt < 2; attempt++) {
        const reply = await bad.send();
        expect(reply.status, bad.what).toBe(bad.status);
        expect(errorCodeOf(reply), bad.what).toBe(bad.code);
        await expectBothHealthy();
      }
    }
    const refused = lb.requests.slice(before).map((request) => request.upstream);
    expect(refused).toHaveLength(badRequests.length * 2);
    for (let index = 0; index < refused.length; index += 2) {
      expect(new Set(refused.slice(index, index + 2))).toEqual(new Set(["A", "B"]));
    }

    // The session survived all of it, on either instance.
    for (const id of [4, 5]) {
      const reply = await post(lb.url, addRequest(id, id, 1), { sessionId });
      expect(reply.status).toBe(200);
      expect(responseTo(reply, id)?.result).toMatchObject({ structuredContent: { sum: id + 1 } });
    }
  });

  it("elicit within one instance", async () => {
    const { a } = mainFleet();
    const client = new Client(
      { name: "fleet-test", version: "1.0.0" },
      { capabilities: { elicitation: {} } },
    );
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(request.params.message);
      return { action: "accept", content: { confirmed: true } };
    });
    const transport = new StreamableHTTPClientTransport(new URL(a.url));
    await client.connect(transport);
    cleanups.push(() => client.close());
    cleanups.push(() => transport.terminateSession());

    const result = await client.callTool({
      name: "confirm",
      arguments: { question: "Scale the fleet?" },
    });
    expect(asked).toEqual(["Scale the fleet?"]);
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toEqual({ action: "accept", confirmed: true });
  });
});

describe("fleet messaging between example-server processes", () => {
  it("completes elicitation and sampling with each reply landing on the other of two instances", async () => {
    const lb = theProxy();
    const { client, sessionId } = await connectThrough(lb, ANSWERING);

    const confirmed = await client.callTool({
      name: "confirm",
      arguments: { question: "Across the fleet?" },
    });
    expect(confirmed.structuredContent).toEqual({ action: "accept", confirmed: true });
    const answered = await client.callTool({
      name: "ask_model",
      arguments: { prompt: "Two instances?" },
    });
    expect(answered.content).toEqual([{ type: "text", text: "echo: Two instances?" }]);
    expect(answered.structuredContent).toEqual({ model: "echo-1" });

    // Each reply went to the instance after the one running the tool, and was routed back.
    const calls = labelled(lb.requests, sessionId, "tools/call");
    const replies = labelled(lb.requests, sessionId, "response");
    expect(calls).toHaveLength(2);
    expect(replies).toHaveLength(2);
    for (const [index, reply] of replies.entries()) {
      expect(reply.upstream).not.toBe(calls[index]?.upstream);
    }
    await expectAccepted(replies);
  });

  it("completes elicitation and sampling across three instances, every request alternating", async () => {
    const lb = theProxy(proxyOfThree);
    const { client, sessionId } = await connectThrough(lb, ANSWERING);

    for (let round = 0; round < 3; round++) {
      const answered = await client.callTool({
        name: "ask_model",
        arguments: { prompt: `round ${round}` },
      });
      expect(answered.content).toEqual([{ type: "text", text: `echo: round ${round}` }]);
      const confirmed = await client.callTool({ name: "confirm", arguments: { question: "?" } });
      expect(confirmed.structuredContent).toEqual({ action: "accept", confirmed: true });
    }

    const calls = labelled(lb.requests, sessionId, "tools/call");
    const replies = labelled(lb.requests, sessionId, "response");
    expect(replies).toHaveLength(6);
    for (const [index, reply] of replies.entries()) {
      expect(reply.upstream).not.toBe(calls[index]?.upstream);
    }
    await expectAccepted(replies);
    // Call, reply, call, …: with three instances every one of them ran tools and took replies.
    expect(new Set(calls.map((call) => call.upstream))).toEqual(new Set(["A", "B", "C"]));
    expect(new Set(replies.map((reply) => reply.upstream))).toEqual(new Set(["A", "B", "C"]));
  });

  it("cancels a tool on the instance running it when the cancellation lands on the other", async () => {
    const lb = theProxy();
    const instances = mainFleet().instances;
    const { client, sessionId } = await connectThrough(lb);
    const before = new Map(instances.map((instance) => [instance, cancellations(instance).length]));

    const cancel = new AbortController();
    const waiting = deferred<boolean | undefined>();
    const call = client.callTool({ name: "wait_for_cancel" }, undefined, {
      signal: cancel.signal,
      // Whether the proxy had seen the call's response end when its progress arrived.
      onprogress: () => waiting.resolve(labelled(lb.requests, sessionId, "tools/call")[0]?.ended),
    });
    const settled = call.then(
      () => "resolved",
      () => "rejected",
    );
    // The call runs until it is cancelled, so its progress passed the proxy while the response
    // was open: the proxy streams SSE as it is written.
    expect(
      await within(waiting.promise, {
        waitingFor: "wait_for_cancel reporting that it waits",
        timeoutMs: SIGNAL_BOUND_MS,
      }),
    ).toBe(false);
    cancel.abort("The user changed their mind");
    expect(await settled).toBe("rejected");

    const [toolCall] = labelled(lb.requests, sessionId, "tools/call");
    const runner = named(instances, toolCall?.upstream);
    const others = instances.filter((instance) => instance !== runner);
    await expect
      .poll(() => labelled(lb.requests, sessionId, "notifications/cancelled")[0]?.status, {
        timeout: SIGNAL_BOUND_MS,
      })
      .toBe(202);
    const [cancelled] = labelled(lb.requests, sessionId, "notifications/cancelled");
    expect(cancelled?.upstream).not.toBe(runner.name);

    // The runner's AbortSignal fired: its process logged it, under its own name.
    await expect
      .poll(() => cancellations(runner).length, { timeout: SIGNAL_BOUND_MS })
      .toBe((before.get(runner) ?? 0) + 1);
    expect(cancellations(runner).at(-1)).toMatchObject({ level: "info", instance: runner.name });
    for (const other of others) {
      expect(cancellations(other), other.name).toHaveLength(before.get(other) ?? 0);
    }
  });

  it("delivers a notification sent outside any request to the GET stream on the other instance", async () => {
    const lb = theProxy();
    const notified = deferred<unknown>();
    const { client, sessionId, fetch } = await connectThrough(lb, {
      prepare: (client) =>
        client.setNotificationHandler(LoggingMessageNotificationSchema, async (notification) => {
          if (notification.params.logger === "notify_later") {
            notified.resolve(notification.params.data);
          }
        }),
    });

    const result = await client.callTool({
      name: "notify_later",
      arguments: { message: "Sent from afar", delayMs: 100 },
    });
    expect(result.content).toEqual([{ type: "text", text: "Will notify in 100 ms." }]);
    expect(
      await within(notified.promise, {
        waitingFor: "the notification",
        timeoutMs: SIGNAL_BOUND_MS,
      }),
    ).toBe("Sent from afar");

    // initialize, initialized, GET, tools/call: the GET stream is held by the other instance.
    const [stream] = labelled(lb.requests, sessionId, "stream");
    const [toolCall] = labelled(lb.requests, sessionId, "tools/call");
    expect(stream?.upstream).not.toBe(toolCall?.upstream);
    expect(stream?.ended).toBe(false);
    // And the notification came on that stream, not on the tool call's response.
    const streamBody = fetch.sent.find((request) => request.label === "stream")?.body;
    expect(streamBody).toContain('"method":"notifications/message"');
    expect(streamBody).toContain('"data":"Sent from afar"');
    const callBody = fetch.sent.find((request) => request.label === "tools/call")?.body;
    expect(callBody).not.toContain("notifications/message");
  });

  it("resumes a cut stream on the other instance with Last-Event-ID (RESUMABLE=1): no gap, no duplicate", async () => {
    const lb = theProxy(resumableProxy);
    const { client, sessionId, fetch } = await connectThrough(lb, {
      fetch: labellingFetch({ cut: { label: "tools/call", afterMessages: 3 } }),
      reconnection: {
        initialReconnectionDelay: 10,
        maxReconnectionDelay: 50,
        reconnectionDelayGrowFactor: 1,
        maxRetries: 3,
      },
    });

    const progress: number[] = [];
    const tokens: string[] = [];
    const result = await client.callTool(
      { name: "countdown", arguments: { from: 10 } },
      undefined,
      {
        onprogress: (update) => progress.push(update.progress),
        onresumptiontoken: (token) => tokens.push(token),
      },
    );
    expect(result.content).toEqual([{ type: "text", text: "Counted down from 10: liftoff!" }]);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(new Set(tokens).size).toBe(tokens.length);

    // The call was cut, then resumed once, on the other instance, from the last event it got.
    const [toolCall] = labelled(lb.requests, sessionId, "tools/call");
    const resumed = labelled(lb.requests, sessionId, "resume");
    expect(toolCall?.ended).toBe(false);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]?.upstream).not.toBe(toolCall?.upstream);
    expect(resumed[0]?.status).toBe(200);
    const lastEventId = fetch.sent.find((request) => request.label === "resume")?.lastEventId;
    expect(tokens).toContain(lastEventId);
    // The cut came mid-way: some progress before it, the rest on the resumed stream.
    const cutBody = fetch.sent.find((request) => request.label === "tools/call")?.body ?? "";
    const beforeCut = cutBody.split('"method":"notifications/progress"').length - 1;
    expect(beforeCut).toBeGreaterThanOrEqual(3);
    expect(beforeCut).toBeLessThan(10);
  });
});
