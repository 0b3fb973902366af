import { silentSendLog } from "@mcp-sessions/session-core";
import { RedisSessionStore } from "@mcp-sessions/session-redis";
import { type RedisTestServer, startRedis } from "@mcp-sessions/session-testing/redis";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { Redis } from "ioredis";
import { afterEach, expect, it } from "vitest";
import { type HandlerFleet, startHandlerFleet } from "./support/handler-fleet.js";
import { POST_HEADERS, readUntil } from "./support/http.js";

let redis: RedisTestServer | undefined;
let fleet: HandlerFleet | undefined;
let store: RedisSessionStore | undefined;
let admin: Redis | undefined;
afterEach(async () => {
  await fleet?.close();
  await store?.close();
  admin?.disconnect();
  await redis?.stop();
});

const SESSIONS = 1_000;
const BATCH = 100;
/**
 * An hour: no session can idle out while the test sets the others up, however long that takes
 * on a busy machine. The abandoned ones are made due afterwards by moving the managers' clock.
 */
const TTL = 3_600_000;

/** One session with a GET stream open on B and a tool on A waiting for the client's answer. */
interface BusySession {
  readonly id: string;
  /** Cuts both streams, as a client that goes away does. */
  readonly disconnect: AbortController;
  /**
   * The open responses. Kept referenced: undici cancels the body of a response that is garbage
   * collected unread, which would close the stream early.
   */
  readonly open: readonly Response[];
}

async function openBusySession(fleetUnderTest: HandlerFleet): Promise<BusySession> {
  const { a, b } = fleetUnderTest;
  const disconnect = new AbortController();
  const { signal } = disconnect;
  const initialized = await fetch(a.url, {
    method: "POST",
    headers: POST_HEADERS,
    signal,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 0,
      method: "initialize",
      params: {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        capabilities: { elicitation: { form: {} } },
        clientInfo: { name: "leak-check", version: "1.0.0" },
      },
    }),
  });
  await initialized.text();
  const id = initialized.headers.get("mcp-session-id") as string;
  const headers = {
    ...POST_HEADERS,
    "mcp-session-id": id,
    "mcp-protocol-version": LATEST_PROTOCOL_VERSION,
  };
  await (
    await fetch(b.url, {
      method: "POST",
      headers,
      signal,
      body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
    })
  ).text();
  const stream = await fetch(b.url, {
    headers: { ...headers, accept: "text/event-stream" },
    signal,
  });
  expect(stream.status).toBe(200);
  const call = await fetch(a.url, {
    method: "POST",
    headers,
    signal,
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "confirm", arguments: { question: "keep?" } },
    }),
  });
  await readUntil(call, "elicitation/create");
  return { id, disconnect, open: [stream, call] };
}

async function keysUnder(client: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, page] = await client.scan(cursor, "MATCH", `*${prefix}*`, "COUNT", 1000);
    cursor = next;
    keys.push(...page);
  } while (cursor !== "0");
  return keys;
}

it(`leaves no session, event log or stream hold in Redis once ${SESSIONS} busy sessions end`, async () => {
  redis = await startRedis();
  admin = new Redis(redis.url);
  const prefix = `leaks-${process.pid}`;
  store = new RedisSessionStore({ url: redis.url, prefix, logger: silentSendLog });
  await store.ready();
  // Real time plus an offset: the store derives each key's PEXPIREAT from this clock's deadlines.
  let offset = 0;
  const clock = { now: () => Date.now() + offset };
  fleet = await startHandlerFleet({
    store,
    handler: { resumable: true },
    manager: { ttl: TTL, cleanupInterval: 100, clock },
  });
  const ended = { deleted: 0, expired: 0 };
  for (let batch = 0; batch < SESSIONS / BATCH; batch++) {
    const sessions = await Promise.all(
      Array.from({ length: BATCH }, () => openBusySession(fleet as HandlerFleet)),
    );
    // Every session of the batch has its log (the priming event, the elicitation) and its hold.
    const logged = new Set(await keysUnder(admin, prefix));
    const withKeys = sessions.filter(({ id }) =>
      [":ev:", ":h:"].every((kind) => [...logged].some((key) => key.endsWith(`${kind}${id}`))),
    );
    expect(withKeys).toHaveLength(BATCH);
    if (batch % 2 === 0) {
      // Ended by the client: DELETE on B while both streams are open.
      await Promise.all(
        sessions.map(async ({ id }) => {
          const response = await fetch(fleet?.b.url as URL, {
            method: "DELETE",
            headers: { "mcp-session-id": id, "mcp-protocol-version": LATEST_PROTOCOL_VERSION },
          });
          expect(response.status).toBe(200);
          ended.deleted++;
        }),
      );
    } else {
      // Abandoned: the client goes away and the sessions expire.
      for (const session of sessions) session.disconnect.abort();
      ended.expired += sessions.length;
    }
  }
  expect(ended).toEqual({ deleted: SESSIONS / 2, expired: SESSIONS / 2 });
  // Every abandoned session is past its deadline from here on, on both instances: their sweeps
  // claim them, which removes each session's key, log and holds, and closes its transports.
  offset = TTL;
  await expect.poll(() => keysUnder(admin as Redis, prefix), { timeout: 60_000 }).toEqual([]);
  expect(await fleet.a.sessions.getActiveSessionCount()).toBe(0);
}, 240_000);
