import type { Clock } from "@mcp-sessions/session-core";
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, describe, expect, it } from "vitest";
import {
  alternate,
  connectClient,
  type HandlerFleet,
  routedFetch,
  startHandlerFleet,
} from "./support/handler-fleet.js";
import { errorOf, initializeRaw, postRequest } from "./support/http.js";

let fleet: HandlerFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

describe("one instance", () => {
  it("serves initialize, tools, progress, resources and prompts, then DELETE ends the session", async () => {
    fleet = await startHandlerFleet();
    const { a } = fleet;
    const { client, transport } = await connectClient(a.url, routedFetch(alternate(a)));
    const sessionId = transport.sessionId;
    expect(sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(client.getServerVersion()).toEqual({ name: "session-mcp-test", version: "1.2.3" });
    expect(await a.sessions.get(sessionId as string)).toMatchObject({ id: sessionId });

    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual([
      "add",
      "countdown",
      "whoami",
      "rendezvous",
      "announce",
      "confirm",
      "sample",
      "wait",
      "ticker",
    ]);
    expect(await client.callTool({ name: "add", arguments: { a: 2, b: 3 } })).toMatchObject({
      content: [{ type: "text", text: "5" }],
    });

    const progress: number[] = [];
    const countdown = await client.callTool(
      { name: "countdown", arguments: { from: 4 } },
      undefined,
      {
        onprogress: ({ progress: step }) => progress.push(step),
      },
    );
    expect(countdown.content).toEqual([{ type: "text", text: "liftoff" }]);
    expect(progress).toEqual([1, 2, 3, 4]);

    const resource = await client.readResource({ uri: "info://server" });
    expect(resource.contents).toEqual([
      { uri: "info://server", mimeType: "application/json", text: '{"ok":true}' },
    ]);
    const prompt = await client.getPrompt({ name: "greet", arguments: { name: "Ada" } });
    expect(prompt.messages).toEqual([
      { role: "user", content: { type: "text", text: "Say hello to Ada" } },
    ]);

    await transport.terminateSession();
    expect(transport.sessionId).toBeUndefined();
    expect(a.closed).toEqual([sessionId]);
    expect(await a.sessions.get(sessionId as string)).toBeUndefined();

    const after = await fetch(a.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-session-id": sessionId as string,
        "mcp-protocol-version": "2025-06-18",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
    });
    expect(await errorOf(after)).toEqual({ status: 404, code: -32001, id: null });
    await client.close();
  });

  it("answers an expired session with 404 -32001, and a new client starts over", async () => {
    let now = 1_000_000;
    const clock: Clock = { now: () => now };
    fleet = await startHandlerFleet({ manager: { ttl: 60_000, clock } });
    const { a } = fleet;
    const first = await connectClient(a.url, routedFetch(alternate(a)));
    await first.client.listTools();
    const expiredId = first.transport.sessionId as string;

    now += 60_000; // exactly ttl idle: expired means gone, sweep or not
    const failure = await first.client.listTools().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(StreamableHTTPError);
    expect((failure as StreamableHTTPError).code).toBe(404);
    const raw = await postRequest(
      a.url,
      { id: expiredId, headers: sessionHeaders(expiredId) },
      "ping",
    );
    expect(await errorOf(raw)).toEqual({ status: 404, code: -32001, id: null });
    // The 404 also released this instance's transport and server for the session.
    expect(a.closed).toEqual([expiredId]);
    await first.client.close();

    const second = await connectClient(a.url, routedFetch(alternate(a)));
    expect(second.transport.sessionId).not.toBe(expiredId);
    expect(await second.client.callTool({ name: "add", arguments: { a: 1, b: 1 } })).toMatchObject({
      content: [{ type: "text", text: "2" }],
    });
    now += 59_999; // touched on every request: still live one ms before its deadline
    expect((await second.client.listTools()).tools).toHaveLength(9);
    await second.client.close();
  });

  it("answers tools/call from plain fetch on an SSE stream", async () => {
    fleet = await startHandlerFleet();
    const session = await initializeRaw(fleet.a.url);
    const response = await postRequest(fleet.a.url, session, "tools/call", {
      name: "add",
      arguments: { a: 20, b: 22 },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(await response.text()).toContain('"text":"42"');
  });
});

function sessionHeaders(id: string): Record<string, string> {
  return {
    "content-type": "application/json",
    accept: "application/json, text/event-stream",
    "mcp-session-id": id,
    "mcp-protocol-version": "2025-06-18",
  };
}
