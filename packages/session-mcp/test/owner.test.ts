import { afterEach, describe, expect, it } from "vitest";
import {
  alternate,
  connectClient,
  type HandlerFleet,
  routedFetch,
  startHandlerFleet,
} from "./support/handler-fleet.js";
import { errorOf, INITIALIZE, initializeRaw, POST_HEADERS, postRequest } from "./support/http.js";

const OWNERS: Readonly<Record<string, string>> = {
  "Bearer token-1": "alice",
  "Bearer token-2": "bob",
};

/** Stands in for real authentication: a verified bearer token names its user. */
function authenticate(request: Request): string | undefined {
  return OWNERS[request.headers.get("authorization") ?? ""];
}

let fleet: HandlerFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

describe("owner binding", () => {
  it("binds a session to the user who made it: another user's token gets 404 on every instance", async () => {
    fleet = await startHandlerFleet({ handler: { authenticate } });
    const { a, b } = fleet;
    const alice = await initializeRaw(a.url, { authorization: "Bearer token-1" });
    expect(await a.sessions.get(alice.id)).toMatchObject({ owner: "alice" });
    expect((await postRequest(b.url, alice, "tools/list")).status).toBe(200); // adopted on B

    const stolen = { id: alice.id, headers: { ...alice.headers, authorization: "Bearer token-2" } };
    for (const instance of [a, b]) {
      expect(await errorOf(await postRequest(instance.url, stolen, "tools/list"))).toEqual({
        status: 404,
        code: -32001,
        id: null,
      });
      const get = await fetch(instance.url, {
        headers: { ...stolen.headers, accept: "text/event-stream" },
      });
      expect(get.status).toBe(404);
      await get.arrayBuffer();
      const deleted = await fetch(instance.url, { method: "DELETE", headers: stolen.headers });
      expect(deleted.status).toBe(404);
      await deleted.arrayBuffer();
    }
    // Bob's attempts neither ended Alice's session nor closed her transports anywhere.
    expect(a.closed).toEqual([]);
    expect(b.closed).toEqual([]);
    for (const instance of [a, b]) {
      expect((await postRequest(instance.url, alice, "tools/list")).status).toBe(200);
    }
    expect(a.created).toEqual([alice.id]);
    expect(b.created).toEqual([alice.id]);
  });

  it("keeps the owner's open streams when another user presents the session id", async () => {
    fleet = await startHandlerFleet({ handler: { authenticate } });
    const { a } = fleet;
    const alice = await initializeRaw(a.url, { authorization: "Bearer token-1" });
    const stream = await fetch(a.url, {
      headers: { ...alice.headers, accept: "text/event-stream" },
    });
    expect(stream.status).toBe(200);
    const stolen = { id: alice.id, headers: { ...alice.headers, authorization: "Bearer token-2" } };
    expect((await postRequest(a.url, stolen, "tools/list")).status).toBe(404);
    // Had Bob's request closed Alice's transport, her stream would now be over.
    expect(a.closed).toEqual([]);
    await stream.body?.cancel();
  });

  it("gives each owner a session through the SDK client, alternating instances", async () => {
    fleet = await startHandlerFleet({ handler: { authenticate } });
    const { a, b } = fleet;
    const clients = await Promise.all(
      ["Bearer token-1", "Bearer token-2"].map((authorization) =>
        connectClient(a.url, routedFetch(alternate(a, b)), { headers: { authorization } }),
      ),
    );
    for (const { client } of clients) {
      const result = await client.callTool({ name: "add", arguments: { a: 1, b: 2 } });
      expect(result.content).toEqual([{ type: "text", text: "3" }]);
    }
    const owners = await Promise.all(
      clients.map(({ transport }) => a.sessions.get(transport.sessionId as string)),
    );
    expect(owners.map((session) => session?.owner)).toEqual(["alice", "bob"]);
    for (const { client } of clients) await client.close();
  });

  it("refuses a request without a recognised token with 401, before any session exists", async () => {
    fleet = await startHandlerFleet({ handler: { authenticate } });
    const { a } = fleet;
    for (const headers of [POST_HEADERS, { ...POST_HEADERS, authorization: "Bearer forged" }]) {
      const response = await fetch(a.url, {
        method: "POST",
        headers,
        body: JSON.stringify(INITIALIZE),
      });
      expect(await errorOf(response)).toEqual({ status: 401, code: -32000, id: null });
    }
    expect(await a.sessions.getActiveSessionCount()).toBe(0);
    const alice = await initializeRaw(a.url, { authorization: "Bearer token-1" });
    const { authorization: _, ...anonymous } = alice.headers;
    const response = await postRequest(a.url, { id: alice.id, headers: anonymous }, "tools/list");
    expect(await errorOf(response)).toEqual({ status: 401, code: -32000, id: null });
    expect((await postRequest(a.url, alice, "tools/list")).status).toBe(200);
  });
});
