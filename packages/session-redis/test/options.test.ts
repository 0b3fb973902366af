import { randomUUID } from "node:crypto";
import { type LogEntry, type Logger, SessionManager } from "@mcp-sessions/session-core";
import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RedisSessionStore, type RedisSessionStoreOptions } from "../src/index.js";

let server: SpawnedRedis;
let client: Redis;
const opened: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  server = await spawnRedisServer();
  client = new Redis(server.url);
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((closable) => closable.close()));
});
afterAll(async () => {
  await client.quit();
  await server.stop();
});

/** The seed's logger: an object whose `sendLog` method keeps its entries on `this`. */
class SeedLogger {
  readonly entries: LogEntry[] = [];
  sendLog(entry: LogEntry): void {
    this.entries.push(entry);
  }
}

function open(logger: Logger): RedisSessionStore {
  const store = new RedisSessionStore({ client, prefix: `t-${randomUUID()}`, logger });
  opened.push(store);
  return store;
}

/** Makes the store log once: a relay listener that throws is logged at `error`. */
async function logOnce(store: RedisSessionStore): Promise<void> {
  const member = store.relay.join({
    message: () => {
      throw new Error("listener failed");
    },
    event: () => {},
  });
  await member.ready;
  expect(await member.send(member.id, "session-1", { n: 1 })).toBe(true);
}

const RELAY_ERROR = {
  level: "error",
  logger: "session-redis/relay",
  data: { message: "Relay listener threw", error: { name: "Error", message: "listener failed" } },
};

describe("RedisSessionStore `logger`", () => {
  it("takes a function", async () => {
    const entries: LogEntry[] = [];
    const store = open((entry) => void entries.push(entry));
    await logOnce(store);
    await expect.poll(() => entries).toEqual([RELAY_ERROR]);
  });

  it("takes the seed's logger object and calls its sendLog() with `this` intact", async () => {
    const seed = new SeedLogger();
    const store = open(seed);
    await store.ready();
    await logOnce(store);
    await expect.poll(() => seed.entries).toEqual([RELAY_ERROR]);
  });

  it("shares the object with a manager on the store", async () => {
    const seed = new SeedLogger();
    const sessions = new SessionManager({ store: open(seed), logger: seed, enabled: false });
    opened.push(sessions);
    const session = await sessions.create({}, { owner: "user-42" });
    expect(await sessions.get(session.id, { owner: "user-7" })).toBeUndefined();
    expect(seed.entries).toEqual([
      {
        level: "warning",
        logger: "session-core/manager",
        data: { message: "get refused: the session belongs to another owner" },
      },
    ]);
  });

  it.each([
    ["a string", "stderr", "got `stderr` (string)"],
    ["null", null, "got `null` (object)"],
    ["console", console, "got an object without a sendLog() method (object)"],
    [
      "an object whose sendLog is not a function",
      { sendLog: 1 },
      "got an object without a sendLog() method (object)",
    ],
  ])("rejects a logger that is %s with a TypeError naming `logger`", (_name, logger, got) => {
    expect(
      () => new RedisSessionStore({ client, logger } as unknown as RedisSessionStoreOptions),
    ).toThrow(
      new TypeError(
        `Expected \`logger\` to be a function or an object with a sendLog() method, ${got}`,
      ),
    );
  });
});
