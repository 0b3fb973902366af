import { setTimeout as delay } from "node:timers/promises";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterEach, describe, expect, it } from "vitest";
import { alternate, connectClient, type Fleet, routedFetch, startFleet } from "./support/fleet.js";
import { initializeRaw, jsonRpcMessages, postRequest, type RawSession } from "./support/http.js";

let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

/**
 * Opens the standalone GET stream. Its headers must arrive at once, long before the SDK's first
 * keep-alive comment (15 s), or the fetch fails.
 */
function openGetStream(url: URL, session: RawSession): Promise<Response> {
  return fetch(url, {
    headers: { ...session.headers, accept: "text/event-stream" },
    signal: AbortSignal.timeout(5_000),
  });
}

describe("streams", () => {
  it("opens the standalone GET stream, one per session, on any instance", async () => {
    fleet = await startFleet();
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
    fleet = await startFleet();
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
    fleet = await startFleet();
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
    fleet = await startFleet();
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
    fleet = await startFleet();
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
    timeout: 15_000,
  }, async () => {
    const ttl = 1_500;
    fleet = await startFleet({ manager: { ttl, cleanupInterval: 50 } });
    const { a, b } = fleet;
    const listening = await initializeRaw(a.url);
    const idle = await initializeRaw(a.url);
    const lastRequestAt = Date.now();
    const stream = await openGetStream(b.url, listening);
    expect(stream.status).toBe(200);

    // The idle session expires on time: the control that shows this test can fail.
    await expect.poll(() => a.closed, { timeout: 5_000 }).toEqual([idle.id]);
    // Two ttl without a request: only the stream's keep-alive touches can have kept it.
    await delay(lastRequestAt + 2 * ttl - Date.now());
    const response = await postRequest(a.url, listening, "tools/list");
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    expect(a.closed).toEqual([idle.id]);
    expect(b.closed).toEqual([]);

    // Once the stream closes, the keep-alive stops and the session idles out like any other.
    await stream.body?.cancel();
    await expect.poll(() => b.closed, { timeout: 5_000 }).toEqual([listening.id]);
    await expect.poll(() => a.closed, { timeout: 5_000 }).toEqual([idle.id, listening.id]);
  });
});
