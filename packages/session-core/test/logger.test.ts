import { afterEach, describe, expect, it, vi } from "vitest";
import {
  defaultSendLog,
  type LogEntry,
  type SendLog,
  SessionExistsError,
  silentSendLog,
} from "../src/index.js";
import { describeError, log, runGuarded, toSendLog } from "../src/store.js";
import { TypedEvents } from "../src/typed-events.js";

const ENTRY: LogEntry = { level: "error", logger: "test", data: { message: "hello" } };

/** Collects unhandled rejections until the returned function is called. */
function watchUnhandledRejections(): () => Promise<unknown[]> {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => seen.push(reason);
  process.on("unhandledRejection", onRejection);
  return async () => {
    // Node reports unhandled rejections once the microtask queue drains, before the next turn.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    process.off("unhandledRejection", onRejection);
    return seen;
  };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("log", () => {
  it("delivers the entry", () => {
    const sendLog = vi.fn();
    log(sendLog, ENTRY);
    expect(sendLog).toHaveBeenCalledExactlyOnceWith(ENTRY);
  });

  it("never throws when sendLog throws", () => {
    const sendLog = vi.fn(() => {
      throw new Error("logger down");
    });
    expect(() => log(sendLog, ENTRY)).not.toThrow();
    expect(sendLog).toHaveBeenCalledTimes(1);
  });

  it("never throws when sendLog throws a non-Error", () => {
    expect(() =>
      log(() => {
        throw "a string";
      }, ENTRY),
    ).not.toThrow();
  });

  it("never leaves an unhandled rejection when sendLog rejects", async () => {
    const stop = watchUnhandledRejections();
    const sendLog = vi.fn(async () => {
      throw new Error("logger down");
    });
    expect(() => log(sendLog, ENTRY)).not.toThrow();
    log(() => Promise.reject(new Error("rejected directly")), ENTRY);
    expect(sendLog).toHaveBeenCalledTimes(1);
    expect(await stop()).toEqual([]);
  });

  it("the unhandled-rejection watcher does see a rejection nobody handles", async () => {
    const stop = watchUnhandledRejections();
    const reason = new Error("nobody handles me");
    void Promise.reject(reason);
    expect(await stop()).toEqual([reason]);
  });
});

describe("defaultSendLog", () => {
  it("writes warnings and worse as one JSON line, and drops lower levels", () => {
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    defaultSendLog({ level: "debug", logger: "t", data: { message: "d" } });
    defaultSendLog({ level: "info", logger: "t", data: { message: "i" } });
    defaultSendLog({ level: "notice", logger: "t", data: { message: "n" } });
    expect(write).not.toHaveBeenCalled();
    defaultSendLog({ level: "warning", logger: "t", data: { message: "w" } });
    defaultSendLog({
      level: "error",
      logger: "t",
      data: { message: "e", error: new SessionExistsError() },
    });
    expect(write).toHaveBeenCalledTimes(2);
    const lines = write.mock.calls.map(([chunk]) => String(chunk));
    for (const line of lines) expect(line.endsWith("\n")).toBe(true);
    expect(JSON.parse(lines[0] ?? "")).toEqual({
      level: "warning",
      logger: "t",
      data: { message: "w" },
    });
    expect(JSON.parse(lines[1] ?? "")).toMatchObject({
      level: "error",
      data: { error: { name: "SessionExistsError", code: "SESSION_EXISTS" } },
    });
  });

  it("silentSendLog drops everything", () => {
    const write = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    silentSendLog({ level: "emergency", logger: "t", data: {} });
    expect(write).not.toHaveBeenCalled();
  });
});

/** The seed's logger: an object whose `sendLog` method reads its own state through `this`. */
class SeedLogger {
  readonly #entries: LogEntry[] = [];
  sendLog(entry: LogEntry): void {
    this.#entries.push(entry);
  }
  get entries(): readonly LogEntry[] {
    return this.#entries;
  }
}

describe("toSendLog", () => {
  it("returns a function as it is", () => {
    const sendLog: SendLog = () => {};
    expect(toSendLog(sendLog)).toBe(sendLog);
  });

  it("calls an object's sendLog() as its method, so `this` is the object", () => {
    const seed = new SeedLogger();
    const sendLog = toSendLog(seed);
    sendLog(ENTRY);
    log(sendLog, ENTRY);
    expect(seed.entries).toEqual([ENTRY, ENTRY]);
  });

  it("calls the object's sendLog() as it is at each entry", () => {
    const first = vi.fn();
    const second = vi.fn();
    const logger = { sendLog: first };
    const sendLog = toSendLog(logger);
    sendLog(ENTRY);
    logger.sendLog = second;
    sendLog(ENTRY);
    expect(first).toHaveBeenCalledExactlyOnceWith(ENTRY);
    expect(second).toHaveBeenCalledExactlyOnceWith(ENTRY);
  });

  it("passes on the promise an async sendLog() returns", async () => {
    const sendLog = toSendLog({ sendLog: async () => "sent" });
    await expect(sendLog(ENTRY)).resolves.toBe("sent");
  });

  it.each([
    ["undefined", undefined, "got `undefined` (undefined)"],
    ["null", null, "got `null` (object)"],
    ["a string", "stderr", "got `stderr` (string)"],
    ["a number", 1, "got `1` (number)"],
    ["console", console, "got an object without a sendLog() method (object)"],
    [
      "an object whose sendLog is not a function",
      { sendLog: "x" },
      "got an object without a sendLog() method (object)",
    ],
    [
      "an object without a prototype",
      Object.create(null),
      "got an object without a sendLog() method (object)",
    ],
  ])("rejects %s with a TypeError naming `logger`", (_name, value, got) => {
    expect(() => toSendLog(value)).toThrow(
      new TypeError(
        `Expected \`logger\` to be a function or an object with a sendLog() method, ${got}`,
      ),
    );
  });
});

describe("describeError", () => {
  it("keeps name, message and code, and drops the stack and cause", () => {
    const error = new Error("outer", { cause: new Error("inner secret") });
    expect(describeError(error)).toEqual({ name: "Error", message: "outer" });
    expect(describeError(new SessionExistsError())).toEqual({
      name: "SessionExistsError",
      message: new SessionExistsError().message,
      code: "SESSION_EXISTS",
    });
  });

  it("describes a non-Error by its type only", () => {
    expect(describeError("secret string")).toEqual({ name: "string" });
    expect(describeError({ token: "secret" })).toEqual({ name: "object" });
  });
});

describe("runGuarded", () => {
  it("logs a throw at error and resolves", async () => {
    const entries: LogEntry[] = [];
    await expect(
      runGuarded(
        (entry) => void entries.push(entry),
        "test/guard",
        "Callback",
        () => {
          throw new Error("boom");
        },
      ),
    ).resolves.toBeUndefined();
    expect(entries).toEqual([
      {
        level: "error",
        logger: "test/guard",
        data: { message: "Callback failed", error: { name: "Error", message: "boom" } },
      },
    ]);
  });

  it("logs a rejection at error and resolves", async () => {
    const entries: LogEntry[] = [];
    await runGuarded(
      (entry) => void entries.push(entry),
      "test/guard",
      "Callback",
      async () => {
        throw new Error("async boom");
      },
    );
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      level: "error",
      data: { error: { message: "async boom" } },
    });
  });

  it("resolves even when both the callback and the logger fail", async () => {
    await expect(
      runGuarded(
        () => {
          throw new Error("logger down");
        },
        "test/guard",
        "Callback",
        () => Promise.reject(new Error("boom")),
      ),
    ).resolves.toBeUndefined();
  });

  it("logs nothing when the callback succeeds", async () => {
    const sendLog = vi.fn();
    await runGuarded(sendLog, "test/guard", "Callback", async () => "ok");
    expect(sendLog).not.toHaveBeenCalled();
  });
});

describe("TypedEvents", () => {
  it("runs every listener even when one throws, and logs the throw", async () => {
    const entries: LogEntry[] = [];
    const events = new TypedEvents<{ ping: { n: number } }>(
      (e) => void entries.push(e),
      "test/events",
    );
    const seen: number[] = [];
    events.on("ping", () => {
      throw new Error("first listener fails");
    });
    events.on("ping", async ({ n }) => {
      seen.push(n);
    });
    await expect(events.emit("ping", { n: 1 })).resolves.toBeUndefined();
    expect(seen).toEqual([1]);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ level: "error", logger: "test/events" });
  });

  it("stops calling a listener after off or its unsubscribe", async () => {
    const events = new TypedEvents<{ ping: number }>(silentSendLog, "test/events");
    const a = vi.fn();
    const b = vi.fn();
    const offA = events.on("ping", a);
    events.on("ping", b);
    await events.emit("ping", 1);
    offA();
    events.off("ping", b);
    await events.emit("ping", 2);
    expect(a).toHaveBeenCalledExactlyOnceWith(1);
    expect(b).toHaveBeenCalledExactlyOnceWith(1);
  });
});
