import { describe, expect, it } from "vitest";
import {
  generateSessionId,
  type LogEntry,
  SessionManager,
  type SessionManagerOptions,
  type SessionStore,
  SYSTEM_CLOCK,
} from "../src/index.js";
import { DEFAULT_SESSION_MANAGER_OPTIONS, resolveOptions } from "../src/options.js";
import { MAX_TIMER_DELAY_MS } from "../src/store.js";

/** resolveOptions only inspects the store's shape; no method is ever called here. */
function stubStore(): SessionStore {
  const unused = () => Promise.reject(new Error("not used in option tests"));
  return {
    create: unused,
    get: unused,
    touch: unused,
    delete: unused,
    count: unused,
    list: () => ({
      [Symbol.asyncIterator]: () => ({ next: unused }),
    }),
    clear: unused,
    sweep: unused,
    subscribe: () => () => {},
    close: unused,
    shared: false,
  };
}

function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`expected an Error, got ${typeof error}`);
  }
  throw new Error("expected a throw");
}

describe("resolveOptions", () => {
  it("fills in every default", () => {
    const store = stubStore();
    const options = resolveOptions({ store });
    expect(options).toEqual({
      store,
      ttl: 1_800_000,
      cleanupInterval: 10_000,
      enabled: true,
      maxLifetime: 86_400_000,
      maxSessions: undefined,
      maxMetadataBytes: 16_384,
      idGenerator: generateSessionId,
      logger: DEFAULT_SESSION_MANAGER_OPTIONS.logger,
      clock: SYSTEM_CLOCK,
    });
    expect(options.store).toBe(store);
    expect(Object.isFrozen(options)).toBe(true);
    expect(Object.isFrozen(DEFAULT_SESSION_MANAGER_OPTIONS)).toBe(true);
  });

  it("treats an explicit undefined as the default", () => {
    const options = resolveOptions({
      store: stubStore(),
      ttl: undefined,
      cleanupInterval: undefined,
      enabled: undefined,
      logger: undefined,
      clock: undefined,
    } as unknown as SessionManagerOptions);
    expect(options.ttl).toBe(1_800_000);
    expect(options.cleanupInterval).toBe(10_000);
    expect(options.enabled).toBe(true);
    expect(options.clock).toBe(SYSTEM_CLOCK);
  });

  it("keeps valid values", () => {
    const logger = () => {};
    const clock = { now: () => 5 };
    const idGenerator = () => "id";
    const options = resolveOptions({
      store: stubStore(),
      ttl: 1,
      cleanupInterval: MAX_TIMER_DELAY_MS,
      enabled: false,
      maxLifetime: 2,
      maxSessions: 1,
      maxMetadataBytes: 2,
      idGenerator,
      logger,
      clock,
    });
    expect(options).toMatchObject({
      ttl: 1,
      cleanupInterval: MAX_TIMER_DELAY_MS,
      enabled: false,
      maxLifetime: 2,
      maxSessions: 1,
      maxMetadataBytes: 2,
    });
    expect(options.idGenerator).toBe(idGenerator);
    expect(options.logger).toBe(logger);
    expect(options.clock).toBe(clock);
  });

  it("does not change its input", () => {
    const input = { store: stubStore(), ttl: 5 };
    resolveOptions(input);
    expect(Object.keys(input)).toEqual(["store", "ttl"]);
  });

  it("names the option, the value and its type", () => {
    const error = thrownBy(() => resolveOptions({ store: stubStore(), cleanupInterval: -5 }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(
      `Expected \`cleanupInterval\` to be a positive integer of ms up to ${MAX_TIMER_DELAY_MS}, got \`-5\` (number)`,
    );
  });

  const bad: Array<[string, unknown]> = [
    ["ttl", 0],
    ["ttl", -1],
    ["ttl", 1.5],
    ["ttl", Number.NaN],
    ["ttl", Number.POSITIVE_INFINITY],
    ["ttl", "1000"],
    ["ttl", null],
    ["ttl", 10n],
    ["ttl", 2 ** 53],
    ["cleanupInterval", -5],
    ["cleanupInterval", 0],
    ["cleanupInterval", MAX_TIMER_DELAY_MS + 1],
    ["cleanupInterval", 0.5],
    ["cleanupInterval", "10s"],
    ["maxLifetime", 0],
    ["maxLifetime", -86_400_000],
    ["maxLifetime", "1d"],
    ["maxSessions", 0],
    ["maxSessions", -1],
    ["maxSessions", 1.5],
    ["maxSessions", "10"],
    ["maxSessions", null],
    ["maxMetadataBytes", 1],
    ["maxMetadataBytes", 0],
    ["maxMetadataBytes", 100.5],
    ["enabled", "yes"],
    ["enabled", 1],
    ["enabled", null],
    ["idGenerator", "uuid"],
    ["idGenerator", null],
    ["logger", console],
    ["logger", null],
    ["logger", "stderr"],
    ["logger", { sendLog: "stderr" }],
    ["clock", Date.now],
    ["clock", {}],
    ["clock", { now: 5 }],
    ["clock", null],
  ];

  it.each(bad)("rejects `%s` = %s with a TypeError naming it", (name, value) => {
    const error = thrownBy(() =>
      resolveOptions({ store: stubStore(), [name]: value } as unknown as SessionManagerOptions),
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(new RegExp(`^Expected \`${name}\` to be `));
    expect(error.message).toContain(`(${typeof value})`);
  });

  it("accepts the seed's logger object, and the manager logs through it with `this` intact", async () => {
    const seed = new (class {
      readonly entries: LogEntry[] = [];
      sendLog(entry: LogEntry): void {
        this.entries.push(entry);
      }
    })();
    const store: SessionStore = {
      ...stubStore(),
      get: async () => ({ status: "foreign" }),
    };
    const options = resolveOptions({ store, logger: seed });
    expect(typeof options.logger).toBe("function");

    const sessions = new SessionManager({ store, enabled: false, logger: seed });
    await expect(sessions.get("abc", { owner: "user-7" })).resolves.toBeUndefined();
    await sessions.close();

    expect(seed.entries).toEqual([
      {
        level: "warning",
        logger: "session-core/manager",
        data: { message: "get refused: the session belongs to another owner" },
      },
    ]);
  });

  it("rejects a store that does not say whether it is shared", () => {
    const { shared: _shared, ...store } = stubStore();
    const error = thrownBy(() => resolveOptions({ store } as unknown as SessionManagerOptions));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(
      "Expected `store.shared` to be a boolean (do other processes see its sessions?), got `undefined` (undefined)",
    );
  });

  it("names both accepted shapes when `logger` is neither", () => {
    const error = thrownBy(() =>
      resolveOptions({ store: stubStore(), logger: console } as unknown as SessionManagerOptions),
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(
      "Expected `logger` to be a function or an object with a sendLog() method, got an object without a sendLog() method (object)",
    );
  });

  it.each([
    ["missing", undefined],
    ["null", null],
    ["an object without methods", {}],
    ["a Map", new Map()],
  ])("rejects a store that is %s, naming `store`", (_name, store) => {
    const error = thrownBy(() => resolveOptions({ store } as unknown as SessionManagerOptions));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toContain("`store`");
  });

  it.each([
    ["undefined", undefined],
    ["null", null],
    ["a string", "ttl=5"],
  ])("rejects options that are %s", (_name, input) => {
    const error = thrownBy(() => resolveOptions(input as unknown as SessionManagerOptions));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toContain("options");
  });
});
