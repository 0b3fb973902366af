import { type LogEntry, SessionManager } from "@mcp-sessions/session-core";
import { afterEach, expect, it } from "vitest";
import { MemorySessionStore } from "../src/index.js";

const MINUTE = 60_000;
/** On the injected clock: nothing expires unless the test moves it. */
const TTL = 30 * MINUTE;

const open: Array<{ manager: SessionManager; store: MemorySessionStore }> = [];
afterEach(async () => {
  for (const { manager, store } of open.splice(0)) {
    await manager.close();
    await store.close();
  }
});

function setup() {
  let now = 1_700_000_000_000;
  const logs: LogEntry[] = [];
  const store = new MemorySessionStore();
  const manager = new SessionManager({
    store,
    ttl: TTL,
    enabled: false,
    clock: { now: () => now },
    logger: (entry) => void logs.push(entry),
  });
  open.push({ manager, store });
  const events: string[] = [];
  manager.on("destroyed", ({ id }) => void events.push(`destroyed ${id}`));
  manager.on("expired", ({ id }) => void events.push(`expired ${id}`));
  manager.on("ended", ({ id, reason }) => void events.push(`ended ${id} ${reason}`));
  const handled: string[] = [];
  manager.setExpirationHandler((id) => void handled.push(id));
  return { manager, store, logs, events, handled, advance: (ms: number) => (now += ms) };
}

it("removes a session no client got, with ended but no destroyed, and never its handler", async () => {
  const h = setup();
  const session = await h.manager.create({ plan: "pro" });
  await h.manager.discard(session);
  expect(await h.manager.get(session.id)).toBeUndefined();
  expect(await h.manager.getActiveSessionCount()).toBe(0);
  h.advance(2 * TTL);
  expect(await h.manager.sweepNow()).toBe(0);
  expect(h.handled).toEqual([]);
  expect(h.events).toEqual([`ended ${session.id} destroyed`]);
  expect(h.logs).toEqual([]);
});

it("leaves a newer session under the same id alone", async () => {
  const h = setup();
  const first = await h.manager.register("reused-id");
  await h.manager.cleanup(first.id);
  h.advance(1);
  const second = await h.manager.register("reused-id", { plan: "new" });
  await h.manager.discard(first);
  expect(await h.manager.get("reused-id")).toEqual(second);
});
