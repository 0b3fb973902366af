import { afterEach, describe, expect, it } from "vitest";
import { type HandlerFleet, startHandlerFleet } from "./support/handler-fleet.js";
import { errorOf, INITIALIZE, initializeRaw, POST_HEADERS, postRequest } from "./support/http.js";

let fleet: HandlerFleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

describe("capacity", () => {
  it("answers an initialize beyond maxSessions with 503 and a JSON-RPC error, and keeps serving", async () => {
    fleet = await startHandlerFleet({ manager: { maxSessions: 1 } });
    const { a, b } = fleet;
    const first = await initializeRaw(a.url);

    for (const instance of [a, b]) {
      const refused = await fetch(instance.url, {
        method: "POST",
        headers: POST_HEADERS,
        body: JSON.stringify(INITIALIZE),
      });
      expect(refused.headers.get("mcp-session-id")).toBeNull();
      expect(refused.headers.get("retry-after")).toBe("1");
      expect(await errorOf(refused)).toEqual({ status: 503, code: -32000, id: null });
    }
    expect(a.created).toEqual([first.id]); // no server was built for a refused session
    expect(b.created).toEqual([]);

    expect((await postRequest(b.url, first, "tools/list")).status).toBe(200);
    const deleted = await fetch(a.url, { method: "DELETE", headers: first.headers });
    expect(deleted.status).toBe(200);
    // The slot is free again.
    const second = await initializeRaw(b.url);
    expect(second.id).not.toBe(first.id);
  });

  it("answers an initialize with client info over maxMetadataBytes with 400 -32602", async () => {
    fleet = await startHandlerFleet({ manager: { maxMetadataBytes: 512 } });
    const oversized = {
      ...INITIALIZE,
      params: { ...INITIALIZE.params, clientInfo: { name: "x".repeat(1024), version: "1" } },
    };
    const response = await fetch(fleet.a.url, {
      method: "POST",
      headers: POST_HEADERS,
      body: JSON.stringify(oversized),
    });
    expect(await errorOf(response)).toEqual({ status: 400, code: -32602, id: null });
    expect(await fleet.a.sessions.getActiveSessionCount()).toBe(0);
    await initializeRaw(fleet.a.url);
  });
});
