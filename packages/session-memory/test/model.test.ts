import { type LogEntry, SessionManager, type SessionRecord } from "@mcp-sessions/session-core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemorySessionStore } from "../src/index.js";

/**
 * Drives SessionManager over MemorySessionStore with random command sequences and checks every
 * result against a reference model that is simple enough to be obviously right.
 */

const START = 1_000_000;
const TTL = 100;
const MAX_LIFETIME = 250;
const MAX_SESSIONS = 5;
const OWNERS = ["alice", "bob", undefined] as const;
const REGISTER_IDS = ["reg-a", "reg-b", "reg-c"] as const;
/** Never created: lookups of it must always miss. */
const UNKNOWN_ID = "never-created";

type Owner = (typeof OWNERS)[number];
type OwnerMode = "right" | "wrong" | "none";

interface ModelSession {
  readonly owner: Owner;
  readonly createdAt: number;
  lastAccessedAt: number;
  expiresAt: number;
}

interface Model {
  now: number;
  /** Every stored session: live, or past its deadline but not yet swept. */
  readonly sessions: Map<string, ModelSession>;
  /** Ids commands pick from: every id ever stored, plus one that never was. */
  readonly knownIds: string[];
  /** How many times each id must have expired (an id can be registered again after it ends). */
  readonly expiries: Map<string, number>;
  readonly destroys: Map<string, number>;
}

interface Real {
  readonly manager: SessionManager;
  readonly store: MemorySessionStore;
  readonly clock: { now: number };
  readonly handled: Map<string, number>;
  readonly expiredEvents: Map<string, number>;
  readonly destroyedEvents: Map<string, number>;
  readonly endedEvents: Map<string, number>;
  readonly logs: LogEntry[];
}

function increment(map: Map<string, number>, id: string): void {
  map.set(id, (map.get(id) ?? 0) + 1);
}

function isLive(
  model: Readonly<Model>,
  session: ModelSession | undefined,
): session is ModelSession {
  return session !== undefined && session.expiresAt > model.now;
}

function liveIds(model: Readonly<Model>): string[] {
  return [...model.sessions].filter(([, s]) => isLive(model, s)).map(([id]) => id);
}

function remember(model: Model, id: string): void {
  if (!model.knownIds.includes(id)) model.knownIds.push(id);
}

function pickId(model: Readonly<Model>, pick: number): string {
  return model.knownIds[pick % model.knownIds.length] ?? UNKNOWN_ID;
}

/** The owner a caller presents: the session's own, another one, or none at all. */
function presentedOwner(stored: Owner, mode: OwnerMode): Owner {
  if (mode === "none") return undefined;
  if (mode === "right") return stored;
  return stored === "alice" ? "bob" : "alice";
}

/** What get or touch must return, by the model: the session, or undefined. */
function expectedLookup(
  model: Readonly<Model>,
  id: string,
  owner: Owner,
): SessionRecord | undefined {
  const session = model.sessions.get(id);
  if (!isLive(model, session)) return undefined;
  if (owner !== undefined && owner !== session.owner) return undefined;
  return toRecord(id, session);
}

function toRecord(id: string, session: ModelSession): SessionRecord {
  return {
    id,
    createdAt: session.createdAt,
    lastAccessedAt: session.lastAccessedAt,
    expiresAt: session.expiresAt,
    ...(session.owner === undefined ? {} : { owner: session.owner }),
  };
}

async function rejectionCode(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
  return "resolved";
}

/** After every command: the live count and the listed ids agree with the model. */
async function checkInvariants(model: Readonly<Model>, real: Real): Promise<void> {
  const live = liveIds(model).sort();
  expect(await real.manager.getActiveSessionCount()).toBe(live.length);
  expect((await real.manager.list()).map((s) => s.id).sort()).toEqual(live);
}

class CreateCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly owner: Owner) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const options = this.owner === undefined ? {} : { owner: this.owner };
    if (liveIds(model).length >= MAX_SESSIONS) {
      expect(await rejectionCode(real.manager.create(undefined, options))).toBe(
        "SESSION_LIMIT_REACHED",
      );
    } else {
      const session = await real.manager.create(undefined, options);
      expect(model.sessions.has(session.id)).toBe(false);
      const expected: ModelSession = {
        owner: this.owner,
        createdAt: model.now,
        lastAccessedAt: model.now,
        expiresAt: model.now + Math.min(TTL, MAX_LIFETIME),
      };
      expect(session).toEqual(toRecord(session.id, expected));
      model.sessions.set(session.id, expected);
      remember(model, session.id);
    }
    await checkInvariants(model, real);
  }
  toString = () => `create(${this.owner ?? "no owner"})`;
}

class RegisterCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly id: string,
    readonly owner: Owner,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const options = this.owner === undefined ? {} : { owner: this.owner };
    const attempt = real.manager.register(this.id, undefined, options);
    // The contract: an id exists until it is swept, even past its deadline.
    if (model.sessions.has(this.id)) {
      expect(await rejectionCode(attempt)).toBe("SESSION_EXISTS");
    } else if (liveIds(model).length >= MAX_SESSIONS) {
      expect(await rejectionCode(attempt)).toBe("SESSION_LIMIT_REACHED");
    } else {
      const expected: ModelSession = {
        owner: this.owner,
        createdAt: model.now,
        lastAccessedAt: model.now,
        expiresAt: model.now + Math.min(TTL, MAX_LIFETIME),
      };
      expect(await attempt).toEqual(toRecord(this.id, expected));
      model.sessions.set(this.id, expected);
      remember(model, this.id);
    }
    await checkInvariants(model, real);
  }
  toString = () => `register(${this.id}, ${this.owner ?? "no owner"})`;
}

class GetCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly pick: number,
    readonly mode: OwnerMode,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const id = pickId(model, this.pick);
    const owner = presentedOwner(model.sessions.get(id)?.owner, this.mode);
    const found = await real.manager.get(id, owner === undefined ? {} : { owner });
    expect(found === undefined ? undefined : withoutMetadata(found)).toEqual(
      expectedLookup(model, id, owner),
    );
    await checkInvariants(model, real);
  }
  toString = () => `get(#${this.pick}, ${this.mode} owner)`;
}

class TouchCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly pick: number,
    readonly mode: OwnerMode,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const id = pickId(model, this.pick);
    const session = model.sessions.get(id);
    const owner = presentedOwner(session?.owner, this.mode);
    const touched = await real.manager.touch(id, owner === undefined ? {} : { owner });
    if (session !== undefined && expectedLookup(model, id, owner) !== undefined) {
      session.lastAccessedAt = model.now;
      session.expiresAt = Math.min(model.now + TTL, session.createdAt + MAX_LIFETIME);
      expect(touched).toEqual(toRecord(id, session));
    } else {
      expect(touched).toBeUndefined();
    }
    await checkInvariants(model, real);
  }
  toString = () => `touch(#${this.pick}, ${this.mode} owner)`;
}

class CleanupCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly pick: number) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const id = pickId(model, this.pick);
    const live = isLive(model, model.sessions.get(id));
    // Only a live session is removed; an expired one is left for the sweep to claim.
    expect(await real.manager.cleanup(id)).toBe(live);
    if (live) {
      model.sessions.delete(id);
      increment(model.destroys, id);
    }
    await checkInvariants(model, real);
  }
  toString = () => `cleanup(#${this.pick})`;
}

class AdvanceCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    model.now += this.ms;
    real.clock.now += this.ms;
    await checkInvariants(model, real);
  }
  toString = () => `advance(${this.ms})`;
}

/** Jumps to a stored session's deadline, or 1 ms either side of it, where off-by-ones live. */
class AdvanceToDeadlineCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly pick: number,
    readonly offset: -1 | 0 | 1,
  ) {}
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const session = model.sessions.get(pickId(model, this.pick));
    const ms = session === undefined ? 0 : Math.max(0, session.expiresAt + this.offset - model.now);
    model.now += ms;
    real.clock.now += ms;
    await checkInvariants(model, real);
  }
  toString = () => `advanceToDeadline(#${this.pick}, ${this.offset})`;
}

class SweepCommand implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(model: Model, real: Real): Promise<void> {
    const due = [...model.sessions].filter(([, s]) => s.expiresAt <= model.now).map(([id]) => id);
    for (const id of due) {
      model.sessions.delete(id);
      increment(model.expiries, id);
    }
    const { claimed } = await real.store.sweep(real.clock.now);
    expect(claimed).toBe(due.length);
    await checkInvariants(model, real);
  }
  toString = () => "sweep";
}

function withoutMetadata(record: SessionRecord): SessionRecord {
  const { metadata: _metadata, ...rest } = record;
  return rest;
}

const ownerArb = fc.constantFrom(...OWNERS);
const modeArb = fc.constantFrom<OwnerMode>("right", "wrong", "none");
const pickArb = fc.nat({ max: 1_000 });

const commandArbs = [
  ownerArb.map((owner) => new CreateCommand(owner)),
  fc
    .tuple(fc.constantFrom(...REGISTER_IDS), ownerArb)
    .map(([id, owner]) => new RegisterCommand(id, owner)),
  fc.tuple(pickArb, modeArb).map(([pick, mode]) => new GetCommand(pick, mode)),
  fc.tuple(pickArb, modeArb).map(([pick, mode]) => new TouchCommand(pick, mode)),
  pickArb.map((pick) => new CleanupCommand(pick)),
  fc.integer({ min: 0, max: 2 * TTL }).map((ms) => new AdvanceCommand(ms)),
  fc
    .tuple(pickArb, fc.constantFrom<-1 | 0 | 1>(-1, 0, 1))
    .map(([pick, offset]) => new AdvanceToDeadlineCommand(pick, offset)),
  fc.constant(new SweepCommand()),
];

function setup(): { model: Model; real: Real } {
  const clock = { now: START };
  const logs: LogEntry[] = [];
  const store = new MemorySessionStore({ logger: (entry) => void logs.push(entry) });
  const manager = new SessionManager({
    store,
    clock: { now: () => clock.now },
    enabled: false,
    ttl: TTL,
    maxLifetime: MAX_LIFETIME,
    maxSessions: MAX_SESSIONS,
    logger: (entry) => void logs.push(entry),
  });
  const real: Real = {
    manager,
    store,
    clock,
    handled: new Map(),
    expiredEvents: new Map(),
    destroyedEvents: new Map(),
    endedEvents: new Map(),
    logs,
  };
  manager.setExpirationHandler(async (id) => {
    // Yield first, so handlers overlap with later commands as they would in a server.
    await Promise.resolve();
    increment(real.handled, id);
  });
  manager.on("expired", ({ id }) => increment(real.expiredEvents, id));
  manager.on("destroyed", ({ id }) => increment(real.destroyedEvents, id));
  manager.on("ended", ({ id, reason }) => increment(real.endedEvents, `${reason}:${id}`));
  const model: Model = {
    now: START,
    sessions: new Map(),
    knownIds: [UNKNOWN_ID],
    expiries: new Map(),
    destroys: new Map(),
  };
  return { model, real };
}

function prefixed(map: ReadonlyMap<string, number>, prefix: string): Map<string, number> {
  return new Map([...map].map(([id, n]) => [`${prefix}:${id}`, n]));
}

describe("SessionManager over MemorySessionStore, against a model", () => {
  it("matches the model for random command sequences", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.commands(commandArbs, { maxCommands: 60, size: "medium" }),
        async (commands) => {
          const { model, real } = setup();
          try {
            await fc.asyncModelRun(() => ({ model, real }), commands);
          } finally {
            // close() waits for handlers and listeners still running.
            await real.manager.close();
            await real.store.close();
          }
          // The handler ran exactly once per expiry the model saw, and never for a cleaned-up id.
          expect(real.handled).toEqual(model.expiries);
          expect(real.expiredEvents).toEqual(model.expiries);
          expect(real.destroyedEvents).toEqual(model.destroys);
          expect(real.endedEvents).toEqual(
            new Map([
              ...prefixed(model.expiries, "expired"),
              ...prefixed(model.destroys, "destroyed"),
            ]),
          );
          // Wrong-owner lookups log warnings; nothing else may log.
          expect(real.logs.filter((entry) => entry.level !== "warning")).toEqual([]);
        },
      ),
      { numRuns: 100 },
    );
  });
});
