import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import {
  alternate,
  connectClient,
  type HandlerFleet,
  routedFetch,
  startHandlerFleet,
} from "./support/handler-fleet.js";
import { initializeRaw, jsonRpcMessages, postRequest, type RawSession } from "./support/http.js";
import { InstrumentedStore } from "./support/instrumented-store.js";

/** How long a keep-alive round or a sweep may take; generous, a passing run is quick. */
const KEEP_ALIVE_WAIT = { timeout: 20_000, interval: 20 } as const;
const SWEEP_WAIT = { timeout: 10_000, interval: 20 } as const;

let fleet: HandlerFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

/**
 * Opens the standalone GET stream. Its headers must arrive at once, long before the SDK's first
 * keep-alive comment (15 s), or the fetch fails; `signal` also ends the stream when it fires.
 */
function openGetStream(
  url: URL,
  session: RawSession,
  signal: AbortSignal = AbortSignal.timeout(5_000),
): Promise<Response> {
  return fetch(url, { headers: { ...session.headers, accept: "text/event-stream" }, signal });
}

describe("streams", () => {
  it("opens the standalone GET stream, one per session, on any instance", async () => {
    fleet = await startHandlerFleet();
    const { a, b } = fleet;
    const session = await initializeRaw(a.url);
    const stream = await openGetStream(b.url, session); // adopts on B
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toBe("text/event-stream");
    expect(stream.headers.get("mcp-session-id")).toBe(session.id);
    expect(b.created).toEqual([session.id]);

    const second = await openGetStream(b.url, session);
    expect(second.status).toBe(409); // the SDK allows one GET stream per session and transport
    await second.arrayBuffer();
    await stream.body?.cancel();
  });

  it("delivers a notification sent outside any request on the GET stream of the same instance", async () => {
    fleet = await startHandlerFleet();
    const { a } = fleet;
    const { client } = await connectClient(
      a.url,
      routedFetch(alternate(a), { standaloneStream: true }),
    );
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changed++;
    });
    // The client opens its GET stream after `initialized`, without waiting: retry until it is up.
    await expect
      .poll(async () => {
        await client.callTool({ name: "announce", arguments: {} });
        return changed;
      })
      .toBeGreaterThan(0);
    await client.close();
  });

  it("keeps several POST streams of one session open at once", { timeout: 10_000 }, async () => {
    fleet = await startHandlerFleet();
    const { a, b } = fleet;
    const session = await initializeRaw(a.url);
    // `rendezvous` returns only when all three calls are in progress together.
    const calls = [a, a, b].map((instance) =>
      postRequest(instance.url, session, "tools/call", {
        name: "rendezvous",
        arguments: { count: 3 },
      }),
    );
    const responses = await Promise.all(calls);
    for (const response of responses) {
      expect(response.headers.get("content-type")).toBe("text/event-stream");
      const [message] = await jsonRpcMessages(response);
      expect(message?.result).toEqual({ content: [{ type: "text", text: "met" }] });
    }
  });

  it("routes each concurrent call's progress to its own stream", async () => {
    fleet = await startHandlerFleet();
    const { a } = fleet;
    const { client } = await connectClient(a.url, routedFetch(alternate(a)));
    const progress: Record<number, number[]> = { 3: [], 5: [] };
    await Promise.all(
      [3, 5].map((from) =>
        client.callTool({ name: "countdown", arguments: { from } }, undefined, {
          onprogress: ({ progress: step, total }) => progress[total ?? 0]?.push(step),
        }),
      ),
    );
    expect(progress).toEqual({ 3: [1, 2, 3], 5: [1, 2, 3, 4, 5] });
    await client.close();
  });

  it("answers a POST of notifications or responses only with 202", async () => {
    fleet = await startHandlerFleet();
    const { a, b } = fleet;
    const session = await initializeRaw(a.url);
    for (const instance of [a, b]) {
      for (const body of [
        { jsonrpc: "2.0", method: "notifications/roots/list_changed" },
        [
          { jsonrpc: "2.0", method: "notifications/roots/list_changed" },
          { jsonrpc: "2.0", method: "notifications/roots/list_changed" },
        ],
        { jsonrpc: "2.0", id: "server-request-1", result: {} },
      ]) {
        const response = await fetch(instance.url, {
          method: "POST",
          headers: session.headers,
          body: JSON.stringify(body),
        });
        expect(response.status).toBe(202);
        expect(await response.text()).toBe("");
      }
    }
  });

  it("keeps a session alive past its ttl while a GET stream is open", {
    timeout: 60_000,
  }, async () => {
    // Deadlines follow an injected clock that moves only when the test moves it; the keep-alive
    // touches every ttl/3 (1 s) of real time. However slow the machine, a session idles out only
    // once the test has moved the clock past a deadline that no touch has moved since.
    const ttl = 3_000;
    const step = (2 * ttl) / 3;
    let now = Date.now();
    const store = new InstrumentedStore();
    fleet = await startHandlerFleet({
      store,
      manager: { ttl, cleanupInterval: 50, clock: { now: () => now } },
    });
    const { a, b } = fleet;
    const listening = await initializeRaw(a.url);
    const idle = await initializeRaw(a.url);
    // A second listener on B: its keep-alive rounds show how far B's own have come.
    const control = await initializeRaw(a.url);
    const lastRequestAt = now;
    // Streams that stay open as long as the test needs them: no timeout cuts them.
    const open = new AbortController();
    const stream = await openGetStream(b.url, listening, open.signal);
    const controlStream = await openGetStream(b.url, control, open.signal);
    expect([stream.status, controlStream.status]).toEqual([200, 200]);
    /** Waits until each of `ids` was touched `rounds` times since the `since`-th touch. */
    const touchedSince = (since: number, rounds: number, ...ids: string[]) =>
      expect
        .poll(
          () => ids.map((id) => store.touched.slice(since).filter((touched) => touched === id)),
          KEEP_ALIVE_WAIT,
        )
        .toSatisfy((touches: string[][]) => touches.every(({ length }) => length >= rounds));

    // Two ttl without a request, in steps shorter than the ttl: after each step, only a
    // keep-alive touch at the new time keeps the session live through the next one.
    while (now - lastRequestAt < 2 * ttl) {
      now += step;
      await touchedSince(store.touched.length, 1, listening.id, control.id);
    }
    // The idle session expired on the way: the control that shows this test can fail.
    await expect.poll(() => a.closed, SWEEP_WAIT).toEqual([idle.id]);
    const response = await postRequest(a.url, listening, "tools/list");
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    expect(a.closed).toEqual([idle.id]);
    expect(b.closed).toEqual([]);

    // Once the stream closes, its keep-alive stops and the session idles out like any other.
    await stream.body?.cancel();
    // B takes the close in the turns of its event loop that two keep-alive rounds of the
    // control take; a touch of `listening` until then is harmless, at the time already set.
    await touchedSince(store.touched.length, 2, control.id);
    now += step;
    const since = store.touched.length;
    // Three rounds of the control span two keep-alive intervals: a keep-alive still running for
    // `listening` would have touched it in them.
    await touchedSince(since, 3, control.id);
    expect(store.touched.slice(since)).not.toContain(listening.id);
    now += step; // past the deadline the tools/list call gave it
    await expect.poll(() => b.closed, SWEEP_WAIT).toEqual([listening.id]);
    await expect.poll(() => a.closed, SWEEP_WAIT).toEqual([idle.id, listening.id]);
    open.abort();
  });
});
