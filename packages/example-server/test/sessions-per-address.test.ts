import { SessionManager, type SessionStoreListener } from "@mcp-sessions/session-core";
import { MemorySessionStore } from "@mcp-sessions/session-memory";
import { describe, expect, it } from "vitest";
import { addressKey, SessionsPerAddress } from "../src/index.js";
import { deleteSession, health, initializeRequest } from "./support/mcp-http.js";
import {
  FINAL_STATUS,
  type HttpReply,
  httpPost,
  postHead,
  rawConnection,
} from "./support/raw-http.js";
import { useExampleServer } from "./support/use-example-server.js";

const { cleanups, start, serveRoutes } = useExampleServer();

/** An `initialize` from `localAddress` (every 127.x address reaches loopback). */
function initializeFrom(url: string, localAddress = "127.0.0.1"): Promise<HttpReply> {
  return httpPost(url, initializeRequest(), { localAddress });
}

function sessionIdOf(reply: HttpReply): string {
  const id = reply.headers["mcp-session-id"];
  if (reply.status !== 200 || typeof id !== "string") {
    throw new Error(`initialize answered ${reply.status} without a session id`);
  }
  return id;
}

const TOO_MANY = {
  status: 429,
  body: {
    jsonrpc: "2.0",
    error: {
      code: -32000,
      message: "Too many sessions from this address; end one (DELETE) or wait until one expires",
    },
    id: null,
  },
};

describe("MAX_SESSIONS_PER_ADDRESS", () => {
  it("holds one address to 100 sessions by default, leaving the rest for other addresses", async () => {
    const server = await start();
    const ids: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const replies = await Promise.all(
        Array.from({ length: 10 }, () => initializeFrom(server.url)),
      );
      ids.push(...replies.map(sessionIdOf));
    }
    expect(await initializeFrom(server.url)).toMatchObject(TOO_MANY);

    // Everybody else is still served: the flood took its own share, not the server's.
    sessionIdOf(await initializeFrom(server.url, "127.0.0.2"));
    expect(await health(server.url)).toMatchObject({ body: { activeSessions: 101 } });

    // A session that ends gives its address room for another.
    expect((await deleteSession(server.url, ids[0] ?? "")).status).toBe(200);
    sessionIdOf(await initializeFrom(server.url));
    expect(await initializeFrom(server.url)).toMatchObject(TOO_MANY);
  });

  it("counts initializes in flight, so concurrent ones cannot overshoot", async () => {
    const server = await start({ MAX_SESSIONS_PER_ADDRESS: "3" });
    const body = JSON.stringify(initializeRequest());
    const connections = await Promise.all(
      Array.from({ length: 8 }, () => rawConnection(server.port)),
    );
    for (const connection of connections) {
      cleanups.push(async () => connection.destroy());
      connection.write(postHead(server.port, Buffer.byteLength(body), "Expect: 100-continue\r\n"));
    }
    // Node answers "100 Continue" as it hands a request to the server, which counts it there and
    // then: all eight are in flight, none has a session yet.
    await Promise.all(connections.map((connection) => connection.received(/100 Continue/)));
    for (const connection of connections) connection.write(body);
    const statuses = await Promise.all(
      connections.map(async (connection) => Number((await connection.received(FINAL_STATUS))[1])),
    );
    expect(statuses.sort()).toEqual([200, 200, 200, 429, 429, 429, 429, 429]);
    expect(await health(server.url)).toMatchObject({ body: { activeSessions: 3 } });
  });

  it("frees a session's place once the store has lost it, even when `ended` never arrived", async () => {
    // A store that loses every `ended` signal, as an instance does while its Redis
    // subscription is down.
    class DeafStore extends MemorySessionStore {
      override subscribe(listener: SessionStoreListener): () => void {
        return super.subscribe({ expired: (id) => listener.expired(id), ended: () => {} });
      }
    }
    const origin = await serveRoutes(new DeafStore(), {
      kind: "memory",
      sessionsPerAddress: (sessions) =>
        new SessionsPerAddress({ sessions, limit: 1, recheckIntervalMs: 60_000 }),
    });
    const url = `${origin}/mcp`;

    const first = sessionIdOf(await initializeFrom(url));
    expect((await deleteSession(url, first)).status).toBe(200);
    // No `ended` came; at the limit, the address's sessions are looked up in the store. (Once
    // per cleanup interval: the refusal below is not looked up again.)
    sessionIdOf(await initializeFrom(url));
    expect(await initializeFrom(url)).toMatchObject(TOO_MANY);
  });

  it("rejects a limit or recheck interval out of range, naming it", () => {
    const store = new MemorySessionStore();
    const sessions = new SessionManager({ store, enabled: false });
    cleanups.push(async () => {
      await sessions.close();
      await store.close();
    });
    expect(() => new SessionsPerAddress({ sessions, limit: 0, recheckIntervalMs: 0 })).toThrow(
      new TypeError("Expected `limit` to be a positive integer, got `0` (number)"),
    );
    expect(() => new SessionsPerAddress({ sessions, limit: 1, recheckIntervalMs: -5 })).toThrow(
      new TypeError(
        "Expected `recheckIntervalMs` to be a non-negative integer of ms, got `-5` (number)",
      ),
    );
  });
});

describe("addressKey", () => {
  it.each([
    ["192.0.2.7", "192.0.2.7"],
    ["::ffff:192.0.2.7", "192.0.2.7"],
    ["::1", "0:0:0:0::/64"],
    ["2001:db8:0:1::7", "2001:db8:0:1::/64"],
    ["2001:0DB8:0000:0001:aaaa:bbbb:cccc:dddd", "2001:db8:0:1::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["64:ff9b::192.0.2.7", "64:ff9b:0:0::/64"],
    [undefined, "unknown"],
  ])("counts %s under %s", (address, key) => {
    expect(addressKey(address)).toBe(key);
  });
});
