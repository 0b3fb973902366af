import {
  type CreateOptions,
  type DeleteOptions,
  type LookupOptions,
  SessionManager,
  type SessionRecord,
  type SessionStore,
  type SessionStoreListener,
  type SweepResult,
  type TouchOptions,
} from "@mcp-sessions/session-core";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MemorySessionStore } from "../src/index.js";

// Timers and Date are vitest's fake ones here: time moves only when a test moves it, so each
// lateness below is exact, whatever the machine's load.

/** A memory store whose next sweep can be held open after it read the sessions. */
class HeldSweepStore implements SessionStore {
  readonly inner = new MemorySessionStore();
  #hold: { reached: () => void; release: Promise<void> } | undefined;

  /** The next sweep reads, then waits for `release`; resolves once it is waiting. */
  holdNextSweep(): { reached: Promise<void>; release: () => void } {
    let reached: () => void = () => {};
    let release: () => void = () => {};
    const reachedPromise = new Promise<void>((resolve) => {
      reached = resolve;
    });
    this.#hold = {
      reached,
      release: new Promise<void>((resolve) => {
        release = resolve;
      }),
    };
    return { reached: reachedPromise, release };
  }

  readonly shared = false;
  async sweep(now: number): Promise<SweepResult> {
    const result = await this.inner.sweep(now);
    const hold = this.#hold;
    this.#hold = undefined;
    if (hold) {
      hold.reached();
      await hold.release;
    }
    return result;
  }
  create(record: SessionRecord, options?: CreateOptions) {
    return this.inner.create(record, options);
  }
  get(id: string, options: LookupOptions) {
    return this.inner.get(id, options);
  }
  touch(id: string, options: TouchOptions) {
    return this.inner.touch(id, options);
  }
  delete(id: string, options: DeleteOptions) {
    return this.inner.delete(id, options);
  }
  count(now: number) {
    return this.inner.count(now);
  }
  list(now: number) {
    return this.inner.list(now);
  }
  clear() {
    return this.inner.clear();
  }
  subscribe(listener: SessionStoreListener) {
    return this.inner.subscribe(listener);
  }
  close() {
    return this.inner.close();
  }
}

/** Each handler run, with how late it ran after the session's deadline, in ms. */
function recordLateness(manager: SessionManager, deadlines: Map<string, number>) {
  const lateness = new Map<string, number>();
  manager.setExpirationHandler((id) => {
    lateness.set(id, Date.now() - (deadlines.get(id) ?? Number.NaN));
  });
  return lateness;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

const open: Array<{ manager: SessionManager; store: SessionStore }> = [];
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: 1_700_000_000_000 });
});
afterEach(async () => {
  for (const { manager, store } of open.splice(0)) {
    await manager.close();
    await store.close();
  }
  vi.useRealTimers();
});

function manage(store: SessionStore, options: { ttl: number; cleanupInterval: number }) {
  const manager = new SessionManager({ store, ...options });
  open.push({ manager, store });
  return manager;
}

describe("the sweep timer", () => {
  it("keeps a deadline the store reported when a session is created during the sweep", async () => {
    const store = new HeldSweepStore();
    // Another instance's session, due in 5 minutes; this manager learns of it from the sweep.
    const other = manage(store, { ttl: 5 * MINUTE, cleanupInterval: HOUR });
    other.stopTTLCleanup();
    const due = await other.create();
    const manager = manage(store, { ttl: HOUR, cleanupInterval: 10 * MINUTE });
    const lateness = recordLateness(manager, new Map([[due.id, due.expiresAt]]));
    // The first sweep runs at once: hold it open after it read the store.
    const held = store.holdNextSweep();
    await vi.advanceTimersByTimeAsync(0);
    await held.reached;
    // A create completes mid-sweep, with a deadline far later than the reported one.
    await manager.create();
    held.release();

    await vi.advanceTimersByTimeAsync(5 * MINUTE);
    // Sweeps are at most 20 ms apart; the fix arms by the reported deadline, not the new one.
    await vi.advanceTimersByTimeAsync(20);
    expect([...lateness.keys()]).toEqual([due.id]);
    expect(lateness.get(due.id)).toBeLessThanOrEqual(20);
  });

  it("keeps to cleanupInterval when the expiration handler creates a session", async () => {
    const store = new MemorySessionStore();
    const manager = manage(store, { ttl: 10 * MINUTE, cleanupInterval: MINUTE });
    const deadlines = new Map<string, number>();
    const lateness = new Map<string, number>();
    manager.setExpirationHandler(async (id) => {
      lateness.set(id, Date.now() - (deadlines.get(id) ?? Number.NaN));
      // A handler that opens a replacement: its create completes while the sweep is in flight.
      await manager.create();
    });
    for (let i = 0; i < 10; i++) {
      const session = await manager.create();
      deadlines.set(session.id, session.expiresAt);
      await vi.advanceTimersByTimeAsync(37 * SECOND);
    }
    await vi.advanceTimersByTimeAsync(10 * MINUTE + MINUTE);
    expect([...lateness.keys()].sort()).toEqual([...deadlines.keys()].sort());
    expect(Math.max(...lateness.values())).toBeLessThanOrEqual(MINUTE);
  });
});

describe("sweepNow", () => {
  it("claims what is due on the injected clock at once and resolves after its handlers ran", async () => {
    vi.useRealTimers();
    let now = 1_700_000_000_000;
    const store = new MemorySessionStore();
    const manager = new SessionManager({
      store,
      ttl: 30 * MINUTE,
      enabled: false,
      clock: { now: () => now },
    });
    open.push({ manager, store });
    const handled: string[] = [];
    manager.setExpirationHandler(async (id) => {
      await Promise.resolve();
      handled.push(id);
    });
    const session = await manager.create();
    expect(await manager.sweepNow()).toBe(0);
    now += 30 * MINUTE;
    expect(await manager.sweepNow()).toBe(1);
    expect(handled).toEqual([session.id]);
    expect(await manager.sweepNow()).toBe(0);
  });
});
