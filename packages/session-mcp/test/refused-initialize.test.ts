import { SessionManager, silentSendLog } from "@mcp-sessions/session-core";
import { RedisSessionStore } from "@mcp-sessions/session-redis";
import { spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { afterEach, expect, it } from "vitest";
import { createMcpSessionHandler } from "../src/index.js";
import { INITIALIZE, listen, POST_HEADERS } from "./support/http.js";
import { buildTestServer } from "./support/test-server.js";

// An initialize answered 503 while Redis stalls must not become a session once Redis resumes:
// the client never got its id, and retrying on `Retry-After` would otherwise fill maxSessions.

const MAX_SESSIONS = 20;
const REFUSED = 15;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function initializeStatuses(url: URL, count: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const response = await fetch(url, {
        method: "POST",
        headers: POST_HEADERS,
        body: JSON.stringify(INITIALIZE),
      });
      await response.body?.cancel();
      return response.status;
    }),
  );
}

it(`keeps nothing of ${REFUSED} initializes refused while Redis was frozen`, async () => {
  const redis = await spawnRedisServer();
  cleanups.push(() => redis.stop());
  const store = new RedisSessionStore({
    url: redis.url,
    prefix: "refused",
    commandTimeoutMs: 300,
    logger: silentSendLog,
  });
  cleanups.push(() => store.close());
  const sessions = new SessionManager({ store, maxSessions: MAX_SESSIONS, logger: silentSendLog });
  cleanups.push(() => sessions.close());
  await store.ready();
  const handler = createMcpSessionHandler({
    sessions,
    relay: store.relay,
    createServer: () => buildTestServer(),
    logger: silentSendLog,
  });
  cleanups.push(() => handler.close());
  const http = await listen(handler);
  cleanups.push(() => http.close());

  await redis.freeze();
  expect(await initializeStatuses(http.url, REFUSED)).toEqual(
    Array.from({ length: REFUSED }, () => 503),
  );
  await redis.thaw();

  await expect.poll(() => sessions.getActiveSessionCount(), { timeout: 30_000 }).toBe(0);
  expect(await initializeStatuses(http.url, MAX_SESSIONS)).toEqual(
    Array.from({ length: MAX_SESSIONS }, () => 200),
  );
  expect(await initializeStatuses(http.url, 1)).toEqual([503]);
});
