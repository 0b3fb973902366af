import { type LogEntry, SessionManager, type SessionRecord } from "@mcp-sessions/session-core";
import { describe, expect, it } from "vitest";
import { MemorySessionStore, type MemorySessionStoreOptions } from "../src/index.js";

const NOW = 1_700_000_000_000;

/** The seed's logger: an object whose `sendLog` method keeps its entries on `this`. */
class SeedLogger {
  readonly entries: LogEntry[] = [];
  sendLog(entry: LogEntry): void {
    this.entries.push(entry);
  }
}

function record(id: string): SessionRecord {
  return { id, createdAt: NOW, lastAccessedAt: NOW, expiresAt: NOW + 60_000 };
}

/** Ends a session while a subscriber throws on `ended`: the store logs that at error. */
async function endUnderFailingSubscriber(store: MemorySessionStore): Promise<void> {
  store.subscribe({
    expired: () => {},
    ended: () => {
      throw new Error("subscriber failed");
    },
  });
  await store.create(record("a"));
  await store.delete("a", { now: NOW });
}

describe("MemorySessionStore options", () => {
  it("takes a logger function", async () => {
    const entries: LogEntry[] = [];
    const store = new MemorySessionStore({ logger: (entry) => void entries.push(entry) });
    await endUnderFailingSubscriber(store);
    await store.close();
    expect(entries).toMatchObject([
      { level: "error", logger: "session-memory/store", data: { error: { name: "Error" } } },
    ]);
  });

  it("takes the seed's logger object, for the store and its relay, with `this` intact", async () => {
    const seed = new SeedLogger();
    const store = new MemorySessionStore({ logger: seed });
    await endUnderFailingSubscriber(store);

    const member = store.relay.join({
      message: () => {
        throw new Error("listener failed");
      },
      event: () => {},
    });
    await member.send(member.id, "a", { n: 1 });
    await expect.poll(() => seed.entries.length).toBe(2);
    await store.close();

    expect(seed.entries.map(({ level, logger }) => ({ level, logger }))).toEqual([
      { level: "error", logger: "session-memory/store" },
      { level: "error", logger: "session-memory/relay" },
    ]);
  });

  it("gives the manager on it the same object, which then receives its warnings", async () => {
    const seed = new SeedLogger();
    const store = new MemorySessionStore({ logger: seed });
    const sessions = new SessionManager({ store, logger: seed, enabled: false });
    const session = await sessions.create({}, { owner: "user-42" });
    await expect(sessions.touch(session.id, { owner: "user-7" })).resolves.toBeUndefined();
    await sessions.close();
    await store.close();
    expect(seed.entries).toEqual([
      {
        level: "warning",
        logger: "session-core/manager",
        data: { message: "touch refused: the session belongs to another owner" },
      },
    ]);
  });

  it.each([
    ["a string", "stderr", "got `stderr` (string)"],
    ["null", null, "got `null` (object)"],
    ["console", console, "got an object without a sendLog() method (object)"],
    [
      "an object whose sendLog is not a function",
      { sendLog: true },
      "got an object without a sendLog() method (object)",
    ],
  ])("rejects a logger that is %s with a TypeError naming `logger`", (_name, logger, got) => {
    expect(
      () => new MemorySessionStore({ logger } as unknown as MemorySessionStoreOptions),
    ).toThrow(
      new TypeError(
        `Expected \`logger\` to be a function or an object with a sendLog() method, ${got}`,
      ),
    );
  });
});
