import {
  InvalidMetadataError,
  InvalidSessionIdError,
  isSessionError,
  type LogEntry,
  SessionExistsError,
  SessionLimitReachedError,
  SessionManager,
  type SessionManagerEventName,
  type SessionManagerEvents,
  type SessionManagerOptions,
  type SessionMetadata,
} from "@mcp-sessions/session-core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MemorySessionStore } from "../src/index.js";

const START = 1_700_000_000_000;
const TTL = 1_000;
const MAX_LIFETIME = 5_000;
const SECRET = "s3cr3t-metadata-value";
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const open: Array<{ manager: SessionManager; store: MemorySessionStore }> = [];

afterEach(async () => {
  const closing = open.splice(0);
  await Promise.all(closing.map(({ manager }) => manager.close()));
  await Promise.all(closing.map(({ store }) => store.close()));
});

interface Harness {
  manager: SessionManager;
  store: MemorySessionStore;
  clock: { now: () => number };
  /** Moves the manual clock forward by `ms`. */
  advance(ms: number): void;
  /** Sweeps the store at the manual clock's now, as a timer would. */
  sweep(): Promise<number>;
  /** Every log entry from the manager and the store. */
  logs: LogEntry[];
  /** Every event the manager emitted, in order. */
  events: Array<{ name: SessionManagerEventName; payload: unknown }>;
  handled: string[];
}

function setup(overrides: Partial<SessionManagerOptions> = {}): Harness {
  let now = START;
  const clock = { now: () => now };
  const logs: LogEntry[] = [];
  const logger = (entry: LogEntry) => {
    logs.push(entry);
  };
  const store = new MemorySessionStore({ logger });
  const manager = new SessionManager({
    store,
    clock,
    logger,
    enabled: false,
    ttl: TTL,
    maxLifetime: MAX_LIFETIME,
    ...overrides,
  });
  open.push({ manager, store });
  const events: Harness["events"] = [];
  for (const name of ["created", "expired", "destroyed", "ended"] as const) {
    manager.on(name, (payload: SessionManagerEvents[typeof name]) => {
      events.push({ name, payload });
    });
  }
  const handled: string[] = [];
  manager.setExpirationHandler((id) => {
    handled.push(id);
  });
  return {
    manager,
    store,
    clock,
    advance: (ms) => {
      now += ms;
    },
    sweep: async () => (await store.sweep(now)).claimed,
    logs,
    events,
    handled,
  };
}

function eventsNamed(h: Harness, name: SessionManagerEventName): unknown[] {
  return h.events.filter((event) => event.name === name).map((event) => event.payload);
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("create and register", () => {
  it("creates a session with a UUID, the right times, owner and metadata", async () => {
    const h = setup();
    const session = await h.manager.create({ plan: "pro" }, { owner: "alice" });
    expect(session).toEqual({
      id: expect.stringMatching(UUID_V4),
      createdAt: START,
      lastAccessedAt: START,
      expiresAt: START + TTL,
      owner: "alice",
      metadata: { plan: "pro" },
    });
    expect(await h.manager.get(session.id, { owner: "alice" })).toEqual(session);
    expect(await h.manager.getActiveSessionCount()).toBe(1);
  });

  it("creates distinct ids", async () => {
    const h = setup();
    const ids = new Set<string>();
    for (let i = 0; i < 50; i++) ids.add((await h.manager.create()).id);
    expect(ids.size).toBe(50);
    expect(await h.manager.getActiveSessionCount()).toBe(50);
  });

  it("omits owner and metadata when none are given", async () => {
    const h = setup();
    const session = await h.manager.create();
    expect(session).not.toHaveProperty("owner");
    expect(session).not.toHaveProperty("metadata");
  });

  it("caps the first deadline by maxLifetime", async () => {
    const h = setup({ ttl: 10_000, maxLifetime: 3_000 });
    const session = await h.manager.create();
    expect(session.expiresAt).toBe(START + 3_000);
  });

  it("uses the idGenerator", async () => {
    const h = setup({ idGenerator: () => "fixed-id" });
    expect((await h.manager.create()).id).toBe("fixed-id");
    expect(await rejectionOf(h.manager.create())).toBeInstanceOf(SessionExistsError);
  });

  it("refuses an idGenerator id that is not a valid session id, storing nothing", async () => {
    const h = setup({ idGenerator: () => "has space" });
    expect(await rejectionOf(h.manager.create())).toBeInstanceOf(InvalidSessionIdError);
    expect(await h.manager.getActiveSessionCount()).toBe(0);
  });

  it("emits created with the session", async () => {
    const h = setup();
    const made = await h.manager.create({ a: 1 }, { owner: "alice" });
    const registered = await h.manager.register("sdk-id-1");
    expect(eventsNamed(h, "created")).toEqual([{ session: made }, { session: registered }]);
  });

  it("registers a session under an id made elsewhere", async () => {
    const h = setup();
    const session = await h.manager.register("sdk-id-1", { client: "x" }, { owner: "bob" });
    expect(session).toEqual({
      id: "sdk-id-1",
      createdAt: START,
      lastAccessedAt: START,
      expiresAt: START + TTL,
      owner: "bob",
      metadata: { client: "x" },
    });
    expect(await h.manager.get("sdk-id-1")).toEqual(session);
  });

  it("accepts glob characters and the length bounds as literal ids", async () => {
    const h = setup();
    for (const id of ["*", "?", "[a-z]*", "x".repeat(256), "!~"]) {
      expect((await h.manager.register(id)).id).toBe(id);
    }
    await h.manager.register("sess-1");
    expect(await h.manager.get("sess-*")).toBeUndefined();
    expect(await h.manager.getActiveSessionCount()).toBe(6);
  });

  it.each([
    ["an empty id", ""],
    ["a 257-character id", "x".repeat(257)],
    ["a space", "a b"],
    ["CRLF", "a\r\nb"],
    ["non-ASCII", "sessión"],
    ["a non-string", 42],
  ])("refuses to register %s, storing nothing", async (_name, id) => {
    const h = setup();
    await h.manager.create();
    const error = await rejectionOf(h.manager.register(id as string));
    expect(error).toBeInstanceOf(InvalidSessionIdError);
    expect(error).toMatchObject({ code: "INVALID_SESSION_ID" });
    expect(await h.manager.getActiveSessionCount()).toBe(1);
    expect(eventsNamed(h, "created")).toHaveLength(1);
  });

  it("refuses a duplicate register and leaves the original untouched", async () => {
    const h = setup();
    const original = await h.manager.register("dup", { v: 1 }, { owner: "alice" });
    h.advance(100);
    const error = await rejectionOf(h.manager.register("dup", { v: 2 }, { owner: "mallory" }));
    expect(error).toBeInstanceOf(SessionExistsError);
    expect(error).toMatchObject({ code: "SESSION_EXISTS" });
    expect(isSessionError(error)).toBe(true);
    expect(await h.manager.get("dup", { owner: "alice" })).toEqual(original);
    expect(await h.manager.get("dup", { owner: "mallory" })).toBeUndefined();
    expect(await h.manager.getActiveSessionCount()).toBe(1);
    expect(eventsNamed(h, "created")).toHaveLength(1);
  });

  it("refuses to register an id that create made", async () => {
    const h = setup();
    const made = await h.manager.create();
    expect(await rejectionOf(h.manager.register(made.id))).toBeInstanceOf(SessionExistsError);
  });

  it("enforces maxSessions on create and register, with room again after cleanup", async () => {
    const h = setup({ maxSessions: 2 });
    const first = await h.manager.create();
    await h.manager.register("second");
    const onCreate = await rejectionOf(h.manager.create());
    expect(onCreate).toBeInstanceOf(SessionLimitReachedError);
    expect(onCreate).toMatchObject({ code: "SESSION_LIMIT_REACHED", maxSessions: 2 });
    const onRegister = await rejectionOf(h.manager.register("third"));
    expect(onRegister).toMatchObject({ code: "SESSION_LIMIT_REACHED" });
    expect(await h.manager.get("third")).toBeUndefined();
    expect(await h.manager.getActiveSessionCount()).toBe(2);
    expect(eventsNamed(h, "created")).toHaveLength(2);

    expect(await h.manager.cleanup(first.id)).toBe(true);
    await h.manager.register("third");
    expect(await h.manager.getActiveSessionCount()).toBe(2);
  });

  it("has room again once sessions expire, before and after the sweep", async () => {
    const h = setup({ maxSessions: 2 });
    await h.manager.create();
    h.advance(TTL / 2);
    await h.manager.create();
    h.advance(TTL / 2);
    // The first is expired but not swept: it does not count against the limit.
    await h.manager.create();
    expect(await rejectionOf(h.manager.create())).toMatchObject({ code: "SESSION_LIMIT_REACHED" });
    expect(await h.sweep()).toBe(1);
    expect(await rejectionOf(h.manager.create())).toMatchObject({ code: "SESSION_LIMIT_REACHED" });
    h.advance(TTL / 2);
    await h.manager.create();
    expect(await h.manager.getActiveSessionCount()).toBe(2);
  });
});

describe("metadata", () => {
  function circular(): SessionMetadata {
    const value: Record<string, unknown> = { token: SECRET };
    value.self = value;
    return value as SessionMetadata;
  }

  const hostile: Array<[string, () => unknown]> = [
    ["circular", circular],
    ["a BigInt", () => ({ token: SECRET, n: 1n })],
    ["a function", () => ({ token: SECRET, f: () => SECRET })],
    ["oversize", () => ({ token: SECRET, blob: "x".repeat(2_000) })],
    ["a __proto__ key", () => JSON.parse(`{"token":"${SECRET}","__proto__":{"admin":true}}`)],
    ["an array", () => [SECRET]],
    ["a class instance", () => ({ token: SECRET, at: new Date() })],
  ];

  it.each(hostile)("refuses %s metadata on create, storing nothing", async (_name, make) => {
    const h = setup({ maxMetadataBytes: 1_024 });
    const error = await rejectionOf(h.manager.create(make() as SessionMetadata));
    expect(error).toBeInstanceOf(InvalidMetadataError);
    expect(error).toMatchObject({ code: "INVALID_METADATA" });
    expect((error as Error).message).not.toContain(SECRET);
    expect(await h.manager.getActiveSessionCount()).toBe(0);
    expect(h.events).toEqual([]);
  });

  it.each(hostile)("refuses %s metadata on register, storing nothing", async (_name, make) => {
    const h = setup({ maxMetadataBytes: 1_024 });
    const error = await rejectionOf(h.manager.register("victim", make() as SessionMetadata));
    expect(error).toMatchObject({ code: "INVALID_METADATA" });
    expect(await h.manager.get("victim")).toBeUndefined();
    expect(await h.manager.getActiveSessionCount()).toBe(0);
    // The id was never taken.
    expect((await h.manager.register("victim", { ok: true })).metadata).toEqual({ ok: true });
  });

  it("keeps its own copy of the metadata", async () => {
    const h = setup();
    const input = { plan: "pro", limits: { calls: 10 } };
    const session = await h.manager.create(input);
    input.plan = "free";
    input.limits.calls = 0;
    expect(session.metadata).toEqual({ plan: "pro", limits: { calls: 10 } });
    expect((await h.manager.get(session.id))?.metadata).toEqual({
      plan: "pro",
      limits: { calls: 10 },
    });
  });

  it("does not let a caller change a stored session through a returned record", async () => {
    const h = setup();
    const session = await h.manager.create({ plan: "pro", limits: { calls: 10 } });
    const read = await h.manager.get(session.id);
    expect(() => {
      (read?.metadata as { plan: string }).plan = "free";
    }).toThrow(TypeError);
    expect(() => {
      (read as { expiresAt: number }).expiresAt = Number.MAX_SAFE_INTEGER;
    }).toThrow(TypeError);
    expect(await h.manager.get(session.id)).toEqual(session);
  });
});

describe("expiry", () => {
  it("expired means gone, even before a sweep", async () => {
    const h = setup();
    const session = await h.manager.create({ a: 1 }, { owner: "alice" });
    h.advance(TTL - 1);
    expect(await h.manager.get(session.id, { owner: "alice" })).toBeDefined();
    h.advance(1); // now === expiresAt
    expect(await h.manager.get(session.id, { owner: "alice" })).toBeUndefined();
    expect(await h.manager.get(session.id)).toBeUndefined();
    expect(await h.manager.touch(session.id, { owner: "alice" })).toBeUndefined();
    expect(await h.manager.touch(session.id)).toBeUndefined();
    expect(await h.manager.getActiveSessionCount()).toBe(0);
    expect(await h.manager.list()).toEqual([]);
    expect(h.handled).toEqual([]);
  });

  it("touch never revives an expired session", async () => {
    const h = setup();
    const session = await h.manager.create();
    h.advance(TTL + 10);
    expect(await h.manager.touch(session.id)).toBeUndefined();
    expect(await h.manager.get(session.id)).toBeUndefined();
    expect(await h.manager.getActiveSessionCount()).toBe(0);
    // Still due: the sweep claims it and the handler runs.
    expect(await h.sweep()).toBe(1);
    await vi.waitFor(() => expect(h.handled).toEqual([session.id]));
  });

  it("touch moves lastAccessedAt and expiresAt, capped by maxLifetime", async () => {
    const h = setup();
    const session = await h.manager.create(undefined, { owner: "alice" });
    const deadlines: number[] = [];
    // Touched every 700 ms with a 1 s ttl, it is never idle long enough to expire...
    for (let now = START + 700; now < START + MAX_LIFETIME; now += 700) {
      h.advance(700);
      const touched = await h.manager.touch(session.id, { owner: "alice" });
      const expected = {
        ...session,
        lastAccessedAt: now,
        expiresAt: Math.min(now + TTL, START + MAX_LIFETIME),
      };
      expect(touched).toEqual(expected);
      expect(await h.manager.get(session.id, { owner: "alice" })).toEqual(expected);
      deadlines.push(touched?.expiresAt ?? Number.NaN);
    }
    expect(deadlines).toEqual(
      [1_700, 2_400, 3_100, 3_800, 4_500, 5_000, 5_000].map((d) => START + d),
    );
    // ...but it still ends at createdAt + maxLifetime, and a touch then does not revive it.
    h.advance(START + MAX_LIFETIME - h.clock.now());
    expect(await h.manager.touch(session.id, { owner: "alice" })).toBeUndefined();
    expect(await h.manager.get(session.id)).toBeUndefined();
    expect(await h.sweep()).toBe(1);
    await vi.waitFor(() => expect(h.handled).toEqual([session.id]));
  });

  it("get does not move the deadline", async () => {
    const h = setup();
    const session = await h.manager.create();
    h.advance(TTL - 1);
    expect(await h.manager.get(session.id)).toEqual(session);
    h.advance(1);
    expect(await h.manager.get(session.id)).toBeUndefined();
  });

  it("a touched session is not claimed at its old deadline", async () => {
    const h = setup();
    const session = await h.manager.create();
    h.advance(TTL - 1);
    await h.manager.touch(session.id);
    h.advance(1);
    expect(await h.sweep()).toBe(0);
    expect(await h.manager.get(session.id)).toBeDefined();
    h.advance(TTL - 1);
    expect(await h.sweep()).toBe(1);
    await vi.waitFor(() => expect(h.handled).toEqual([session.id]));
  });

  it("runs the handler exactly once per expired session, after the record is gone", async () => {
    const h = setup();
    const seen: Array<{ id: string; found: unknown; count: number }> = [];
    h.manager.setExpirationHandler(async (id) => {
      seen.push({
        id,
        found: await h.manager.get(id),
        count: await h.manager.getActiveSessionCount(),
      });
    });
    const a = await h.manager.create();
    const b = await h.manager.register("b-session");
    h.advance(TTL / 2);
    const survivor = await h.manager.create();
    h.advance(TTL / 2);
    expect(await h.sweep()).toBe(2);
    await vi.waitFor(() => expect(seen).toHaveLength(2));
    expect(seen.map((s) => s.id).sort()).toEqual([a.id, b.id].sort());
    for (const s of seen) {
      expect(s.found).toBeUndefined();
      expect(s.count).toBe(1);
    }
    // Sweeping again claims nothing more.
    expect(await h.sweep()).toBe(0);
    h.advance(TTL / 2);
    expect(await h.sweep()).toBe(1);
    await vi.waitFor(() => expect(seen).toHaveLength(3));
    expect(seen[2]?.id).toBe(survivor.id);
    expect(await h.sweep()).toBe(0);
    await h.manager.close();
    expect(seen).toHaveLength(3);
  });

  it("emits expired and ended(expired), never destroyed", async () => {
    const h = setup();
    const session = await h.manager.create();
    h.events.length = 0;
    h.advance(TTL);
    await h.sweep();
    await vi.waitFor(() => expect(eventsNamed(h, "expired")).toEqual([{ id: session.id }]));
    expect(eventsNamed(h, "ended")).toEqual([{ id: session.id, reason: "expired" }]);
    expect(eventsNamed(h, "destroyed")).toEqual([]);
  });

  it("runs the handler before emitting expired", async () => {
    const h = setup();
    const order: string[] = [];
    h.manager.setExpirationHandler(async () => {
      order.push("handler");
    });
    h.manager.on("expired", () => {
      order.push("expired");
    });
    await h.manager.create();
    h.advance(TTL);
    await h.sweep();
    await vi.waitFor(() => expect(order).toEqual(["handler", "expired"]));
  });

  it("logs a throwing or rejecting handler at error, and other sessions still expire", async () => {
    const h = setup();
    const ids = ["throws", "rejects", "fine-1", "fine-2"];
    for (const id of ids) await h.manager.register(id);
    const ran: string[] = [];
    // One handler that throws synchronously for one id and rejects for another.
    h.manager.setExpirationHandler((id) => {
      ran.push(id);
      if (id === "throws") throw new Error("handler threw");
      if (id === "rejects") return Promise.reject(new Error("handler rejected"));
      return Promise.resolve();
    });
    h.advance(TTL);
    expect(await h.sweep()).toBe(4);
    await vi.waitFor(() => expect(eventsNamed(h, "expired")).toHaveLength(4));
    expect(ran.sort()).toEqual([...ids].sort());
    const errors = h.logs.filter((entry) => entry.level === "error");
    expect(errors).toHaveLength(2);
    for (const entry of errors) expect(entry.logger).toBe("session-core/manager");
    expect(errors.map((entry) => (entry.data.error as { message: string }).message).sort()).toEqual(
      ["handler rejected", "handler threw"],
    );
    expect(await h.manager.getActiveSessionCount()).toBe(0);
  });

  it("keeps expiring after a handler failure, on later sweeps", async () => {
    const h = setup();
    h.manager.setExpirationHandler(() => {
      throw new Error("always fails");
    });
    await h.manager.register("first");
    h.advance(TTL);
    await h.sweep();
    await h.manager.register("second");
    h.advance(TTL);
    expect(await h.sweep()).toBe(1);
    await vi.waitFor(() => expect(eventsNamed(h, "expired")).toHaveLength(2));
    expect(h.logs.filter((entry) => entry.level === "error")).toHaveLength(2);
  });

  it("does nothing without a handler, and stops after the handler is removed", async () => {
    const h = setup();
    h.manager.setExpirationHandler(undefined);
    await h.manager.register("a");
    h.advance(TTL);
    expect(await h.sweep()).toBe(1);
    await vi.waitFor(() => expect(eventsNamed(h, "expired")).toEqual([{ id: "a" }]));
    expect(h.handled).toEqual([]);
    expect(h.logs).toEqual([]);
  });
});

describe("cleanup", () => {
  it("emits destroyed and ended(destroyed), never expired, and the handler does not run", async () => {
    const h = setup();
    const session = await h.manager.create({ a: 1 }, { owner: "alice" });
    h.events.length = 0;
    expect(await h.manager.cleanup(session.id)).toBe(true);
    await vi.waitFor(() =>
      expect(eventsNamed(h, "ended")).toEqual([{ id: session.id, reason: "destroyed" }]),
    );
    expect(eventsNamed(h, "destroyed")).toEqual([{ id: session.id }]);
    expect(await h.manager.get(session.id)).toBeUndefined();
    expect(await h.manager.getActiveSessionCount()).toBe(0);
    h.advance(MAX_LIFETIME * 2);
    expect(await h.sweep()).toBe(0);
    await h.manager.close();
    expect(eventsNamed(h, "expired")).toEqual([]);
    expect(h.handled).toEqual([]);
  });

  it("returns false for an unknown or already removed id and emits nothing", async () => {
    const h = setup();
    await h.manager.register("x");
    await h.manager.cleanup("x");
    h.events.length = 0;
    expect(await h.manager.cleanup("x")).toBe(false);
    expect(await h.manager.cleanup("never-existed")).toBe(false);
    await h.manager.close();
    expect(h.events).toEqual([]);
  });

  it("refuses an invalid id", async () => {
    const h = setup();
    expect(await rejectionOf(h.manager.cleanup("a b"))).toMatchObject({
      code: "INVALID_SESSION_ID",
    });
  });

  it("treats an expired, unswept session as gone: false, and the handler still runs once", async () => {
    const h = setup();
    const session = await h.manager.create();
    h.advance(TTL);
    expect(await h.manager.cleanup(session.id)).toBe(false);
    expect(await h.sweep()).toBe(1);
    await vi.waitFor(() => expect(h.handled).toEqual([session.id]));
    await h.manager.close();
    expect(eventsNamed(h, "destroyed")).toEqual([]);
    expect(eventsNamed(h, "ended")).toEqual([{ id: session.id, reason: "expired" }]);
  });

  it("lets the id be registered again after cleanup", async () => {
    const h = setup();
    await h.manager.register("reuse", { v: 1 });
    await h.manager.cleanup("reuse");
    h.advance(10);
    const again = await h.manager.register("reuse", { v: 2 });
    expect(again.createdAt).toBe(START + 10);
    // The first session's old deadline must not end the second one.
    h.advance(TTL - 10);
    expect(await h.sweep()).toBe(0);
    expect(await h.manager.get("reuse")).toEqual(again);
    h.advance(10);
    expect(await h.sweep()).toBe(1);
    await vi.waitFor(() => expect(h.handled).toEqual(["reuse"]));
  });
});

describe("owner binding", () => {
  it("a wrong owner sees exactly what an unknown id gives", async () => {
    const h = setup();
    const session = await h.manager.create({ a: 1 }, { owner: "alice" });
    expect(await h.manager.get(session.id, { owner: "mallory" })).toBeUndefined();
    expect(await h.manager.touch(session.id, { owner: "mallory" })).toBeUndefined();
    expect(await h.manager.get("unknown-id", { owner: "mallory" })).toBeUndefined();
    expect(await h.manager.touch("unknown-id", { owner: "mallory" })).toBeUndefined();
    expect(await h.manager.get(session.id, { owner: "alice" })).toEqual(session);
    // No owner presented means no check, for trusted internal calls.
    expect(await h.manager.get(session.id)).toEqual(session);
  });

  it("a session without an owner is foreign to anyone who presents one", async () => {
    const h = setup();
    const session = await h.manager.create();
    expect(await h.manager.get(session.id, { owner: "alice" })).toBeUndefined();
    expect(await h.manager.touch(session.id, { owner: "alice" })).toBeUndefined();
    expect(await h.manager.get(session.id)).toEqual(session);
  });

  it("a touch by the wrong owner does not extend the deadline", async () => {
    const h = setup();
    const session = await h.manager.create(undefined, { owner: "alice" });
    h.advance(TTL - 100);
    expect(await h.manager.touch(session.id, { owner: "mallory" })).toBeUndefined();
    expect(await h.manager.get(session.id, { owner: "alice" })).toEqual(session);
    h.advance(100);
    expect(await h.manager.get(session.id, { owner: "alice" })).toBeUndefined();
    expect(await h.sweep()).toBe(1);
    await vi.waitFor(() => expect(h.handled).toEqual([session.id]));
  });

  it("logs a refusal at warning without the owner, the id or metadata", async () => {
    const h = setup();
    const session = await h.manager.register(
      "the-session-id-123",
      { token: SECRET },
      { owner: "owner-alice-42" },
    );
    await h.manager.get(session.id, { owner: "owner-mallory-7" });
    await h.manager.touch(session.id, { owner: "owner-mallory-7" });
    const warnings = h.logs.filter((entry) => entry.level === "warning");
    expect(warnings).toHaveLength(2);
    const text = JSON.stringify(h.logs);
    for (const secret of ["owner-alice-42", "owner-mallory-7", "the-session-id-123", SECRET]) {
      expect(text).not.toContain(secret);
    }
    for (const entry of warnings) expect(entry.logger).toBe("session-core/manager");
  });

  it("does not log a lookup by the right owner or of an unknown id", async () => {
    const h = setup();
    const session = await h.manager.create(undefined, { owner: "alice" });
    await h.manager.get(session.id, { owner: "alice" });
    await h.manager.touch(session.id, { owner: "alice" });
    await h.manager.get("unknown-id", { owner: "alice" });
    expect(h.logs).toEqual([]);
  });
});

describe("logs", () => {
  it("never contain a metadata value, whatever goes wrong", async () => {
    const h = setup({ maxMetadataBytes: 512 });
    const metadata = { token: SECRET, nested: { also: [SECRET] } };
    h.manager.on("created", () => {
      throw new Error("created listener failed");
    });
    h.manager.on("ended", async () => {
      throw new Error("ended listener failed");
    });
    h.manager.setExpirationHandler(async () => {
      throw new Error("handler failed");
    });
    const a = await h.manager.create(metadata, { owner: "alice" });
    const b = await h.manager.register("b-id", metadata, { owner: "alice" });
    await h.manager.get(a.id, { owner: "mallory" });
    await h.manager.touch(a.id, { owner: "mallory" });
    await rejectionOf(h.manager.register("b-id", metadata));
    await rejectionOf(h.manager.create({ ...metadata, big: "x".repeat(1_000) }));
    await rejectionOf(h.manager.create({ ...metadata, n: 1n } as unknown as SessionMetadata));
    await h.manager.cleanup(b.id);
    h.advance(TTL);
    await h.sweep();
    await h.manager.close();
    const levels = new Set(h.logs.map((entry) => entry.level));
    expect(levels).toEqual(new Set(["warning", "error"]));
    expect(h.logs.length).toBeGreaterThanOrEqual(6);
    expect(JSON.stringify(h.logs)).not.toContain(SECRET);
  });
});

describe("list, count and clearAll", () => {
  it("list and getActiveSessionCount show live sessions only", async () => {
    const h = setup();
    const a = await h.manager.create({ n: 1 });
    h.advance(TTL / 2);
    const b = await h.manager.register("b", undefined, { owner: "bob" });
    expect((await h.manager.list()).sort((x, y) => x.createdAt - y.createdAt)).toEqual([a, b]);
    expect(await h.manager.getActiveSessionCount()).toBe(2);
    h.advance(TTL / 2);
    expect(await h.manager.list()).toEqual([b]);
    expect(await h.manager.getActiveSessionCount()).toBe(1);
    await h.manager.cleanup("b");
    expect(await h.manager.list()).toEqual([]);
    expect(await h.manager.getActiveSessionCount()).toBe(0);
  });

  it("clearAll removes every session, emits ended(destroyed), and no handler runs", async () => {
    const h = setup();
    const ids = ["one", "two", "three"];
    for (const id of ids) await h.manager.register(id);
    h.events.length = 0;
    expect(await h.manager.clearAll()).toBe(3);
    expect(await h.manager.getActiveSessionCount()).toBe(0);
    expect(await h.manager.list()).toEqual([]);
    for (const id of ids) expect(await h.manager.get(id)).toBeUndefined();
    await vi.waitFor(() => expect(eventsNamed(h, "ended")).toHaveLength(3));
    expect(eventsNamed(h, "ended")).toEqual(ids.map((id) => ({ id, reason: "destroyed" })));
    h.advance(MAX_LIFETIME);
    expect(await h.sweep()).toBe(0);
    await h.manager.close();
    expect(h.handled).toEqual([]);
    expect(eventsNamed(h, "expired")).toEqual([]);
    expect(await new MemorySessionStore().clear()).toBe(0);
  });

  it("ids can be registered again after clearAll", async () => {
    const h = setup();
    await h.manager.register("one");
    await h.manager.clearAll();
    await h.manager.register("one");
    expect(await h.manager.getActiveSessionCount()).toBe(1);
  });
});

describe("close", () => {
  it("is idempotent and leaves the store to whoever made it", async () => {
    const h = setup();
    const kept = await h.manager.create();
    const first = h.manager.close();
    const second = h.manager.close();
    await expect(first).resolves.toBeUndefined();
    await expect(second).resolves.toBeUndefined();
    await expect(h.manager.close()).resolves.toBeUndefined();
    expect(await rejectionOf(h.manager.get(kept.id))).toMatchObject({ code: "STORE_CLOSED" });

    // Another manager on the same store goes on serving the session.
    const next = new SessionManager({ store: h.store, clock: h.clock, enabled: false, ttl: TTL });
    open.push({ manager: next, store: h.store });
    expect((await next.get(kept.id))?.id).toBe(kept.id);
  });

  it("waits for a running expiration handler", async () => {
    const h = setup();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const order: string[] = [];
    h.manager.setExpirationHandler(async () => {
      order.push("handler started");
      await gate;
      order.push("handler done");
    });
    await h.manager.create();
    h.advance(TTL);
    await h.sweep();
    await vi.waitFor(() => expect(order).toEqual(["handler started"]));
    const closing = h.manager.close().then(() => {
      order.push("closed");
    });
    // Let everything that does not depend on the gate settle.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(["handler started"]);
    release();
    await closing;
    expect(order).toEqual(["handler started", "handler done", "closed"]);
  });

  it("waits for a slow listener", async () => {
    const h = setup();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let done = false;
    h.manager.on("ended", async () => {
      await gate;
      done = true;
    });
    await h.manager.register("x");
    await h.manager.cleanup("x");
    const closing = h.manager.close();
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    release();
    await closing;
    expect(done).toBe(true);
  });

  it("afterwards every method fails with STORE_CLOSED", async () => {
    const h = setup();
    const session = await h.manager.create();
    await h.manager.close();
    const calls: Array<[string, () => Promise<unknown>]> = [
      ["create", () => h.manager.create()],
      ["register", () => h.manager.register("new-id")],
      ["get", () => h.manager.get(session.id)],
      ["touch", () => h.manager.touch(session.id)],
      ["cleanup", () => h.manager.cleanup(session.id)],
      ["list", () => h.manager.list()],
      ["getActiveSessionCount", () => h.manager.getActiveSessionCount()],
      ["clearAll", () => h.manager.clearAll()],
    ];
    for (const [name, call] of calls) {
      // Each returns a rejected promise; none throws synchronously.
      let promise: Promise<unknown> | undefined;
      expect(() => {
        promise = call();
      }, name).not.toThrow();
      const error = await rejectionOf(promise ?? Promise.resolve());
      expect(error, name).toMatchObject({ code: "STORE_CLOSED", name: "StoreClosedError" });
      expect(isSessionError(error), name).toBe(true);
    }
    expect(() => h.manager.startTTLCleanup()).toThrow(
      expect.objectContaining({ code: "STORE_CLOSED" }),
    );
  });

  it("no longer runs handlers or emits events", async () => {
    const h = setup();
    const store = h.store;
    await h.manager.create();
    await h.manager.close();
    h.events.length = 0;
    // The store stays open, and whoever sweeps it now claims the session: not this manager.
    expect((await store.sweep(h.clock.now() + TTL)).claimed).toBe(1);
    expect(h.handled).toEqual([]);
    expect(h.events).toEqual([]);
  });
});

describe("timers", () => {
  interface TrackedTimer {
    timer: NodeJS.Timeout;
    fromCore: boolean;
  }

  /**
   * Wraps setTimeout/clearTimeout to learn which timers session-core created and which of them
   * are still pending: neither fired nor cleared.
   */
  function trackTimers() {
    const realSetTimeout = globalThis.setTimeout;
    const realClearTimeout = globalThis.clearTimeout;
    const created: TrackedTimer[] = [];
    const pending = new Set<NodeJS.Timeout>();
    globalThis.setTimeout = ((
      fn: (...args: unknown[]) => void,
      ms?: number,
      ...args: unknown[]
    ) => {
      const timer = realSetTimeout(() => {
        pending.delete(timer);
        fn(...args);
      }, ms);
      pending.add(timer);
      created.push({ timer, fromCore: /session-core[\\/]/.test(new Error().stack ?? "") });
      return timer;
    }) as typeof setTimeout;
    globalThis.clearTimeout = ((timer?: NodeJS.Timeout | string | number) => {
      if (typeof timer === "object") pending.delete(timer);
      realClearTimeout(timer);
    }) as typeof clearTimeout;
    return {
      coreTimers: () => created.filter((t) => t.fromCore).map((t) => t.timer),
      pendingCoreTimers: () =>
        created.filter((t) => t.fromCore && pending.has(t.timer)).map((t) => t.timer),
      restore: () => {
        globalThis.setTimeout = realSetTimeout;
        globalThis.clearTimeout = realClearTimeout;
      },
    };
  }

  it("with the real clock, the handler runs on its own, and close leaves no timer", async () => {
    const timers = trackTimers();
    try {
      const logs: LogEntry[] = [];
      const store = new MemorySessionStore();
      const manager = new SessionManager({
        store,
        ttl: 50,
        cleanupInterval: 20,
        logger: (entry) => void logs.push(entry),
      });
      open.push({ manager, store });
      const handled: string[] = [];
      manager.setExpirationHandler((id) => {
        handled.push(id);
      });
      const session = await manager.create();
      await expect.poll(() => handled, { timeout: 10_000, interval: 10 }).toEqual([session.id]);
      expect(await manager.get(session.id)).toBeUndefined();
      expect(timers.coreTimers().length).toBeGreaterThan(0);
      for (const timer of timers.coreTimers()) expect(timer.hasRef()).toBe(false);
      // The manager keeps sweeping while open...
      expect(timers.pendingCoreTimers()).toHaveLength(1);
      await manager.close();
      // ...and close leaves nothing behind.
      expect(timers.pendingCoreTimers()).toEqual([]);
      expect(logs).toEqual([]);
    } finally {
      timers.restore();
    }
  });

  it("stopTTLCleanup clears the timer, and startTTLCleanup arms one again", async () => {
    const timers = trackTimers();
    try {
      const store = new MemorySessionStore();
      const manager = new SessionManager({ store, cleanupInterval: 60_000 });
      open.push({ manager, store });
      await manager.create();
      expect(timers.pendingCoreTimers().length).toBeGreaterThan(0);
      manager.stopTTLCleanup();
      expect(timers.pendingCoreTimers()).toEqual([]);
      manager.startTTLCleanup();
      expect(timers.pendingCoreTimers()).toHaveLength(1);
      await manager.close();
      expect(timers.pendingCoreTimers()).toEqual([]);
    } finally {
      timers.restore();
    }
  });

  it("enabled: false arms no timer at all", async () => {
    const timers = trackTimers();
    try {
      const h = setup({ enabled: false });
      await h.manager.create();
      h.manager.startTTLCleanup();
      expect(timers.coreTimers()).toEqual([]);
    } finally {
      timers.restore();
    }
  });
});
