import { describe, expect, it } from "vitest";
import {
  InvalidMetadataError,
  InvalidSessionIdError,
  isSessionError,
  SessionError,
  SessionExistsError,
  SessionLimitReachedError,
  StoreClosedError,
  StoreConfigurationError,
  StoreUnavailableError,
} from "../src/index.js";

describe("errors", () => {
  const ours: Array<[SessionError, string, string]> = [
    [new InvalidSessionIdError("bad id"), "INVALID_SESSION_ID", "InvalidSessionIdError"],
    [new SessionExistsError(), "SESSION_EXISTS", "SessionExistsError"],
    [new SessionLimitReachedError(3), "SESSION_LIMIT_REACHED", "SessionLimitReachedError"],
    [new InvalidMetadataError("bad metadata"), "INVALID_METADATA", "InvalidMetadataError"],
    [new StoreUnavailableError("down"), "STORE_UNAVAILABLE", "StoreUnavailableError"],
    [new StoreClosedError("Thing"), "STORE_CLOSED", "StoreClosedError"],
    [new StoreConfigurationError("no Ex"), "STORE_MISCONFIGURED", "StoreConfigurationError"],
  ];

  it.each(ours)("%s has its code and class name", (error, code, name) => {
    expect(error).toBeInstanceOf(SessionError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.name).toBe(name);
    expect(isSessionError(error)).toBe(true);
  });

  it("passes the cause through", () => {
    const cause = new Error("ECONNRESET");
    expect(new StoreUnavailableError("down", { cause }).cause).toBe(cause);
    expect(new InvalidMetadataError("bad", { cause }).cause).toBe(cause);
  });

  it("SessionLimitReachedError names the limit and the option", () => {
    const error = new SessionLimitReachedError(3);
    expect(error.maxSessions).toBe(3);
    expect(error.message).toContain("3");
    expect(error.message).toContain("`maxSessions`");
  });

  it("recognises an error from another copy of core by its code", () => {
    const foreign = Object.assign(new Error("from another copy"), { code: "SESSION_EXISTS" });
    expect(foreign).not.toBeInstanceOf(SessionError);
    expect(isSessionError(foreign)).toBe(true);
    for (const code of [
      "INVALID_SESSION_ID",
      "SESSION_LIMIT_REACHED",
      "STORE_UNAVAILABLE",
      "STORE_MISCONFIGURED",
      "STORE_CLOSED",
    ]) {
      expect(isSessionError(Object.assign(new Error("x"), { code }))).toBe(true);
    }
  });

  const notOurs: Array<[string, unknown]> = [
    ["a plain Error", new Error("boom")],
    ["an Error with an unknown code", Object.assign(new Error("x"), { code: "ENOENT" })],
    ["an Error with a lower-case code", Object.assign(new Error("x"), { code: "session_exists" })],
    ["an Error with a numeric code", Object.assign(new Error("x"), { code: 404 })],
    ["a TypeError", new TypeError("x")],
    ["a non-Error object with a known code", { code: "SESSION_EXISTS", message: "x" }],
    ["a string", "SESSION_EXISTS"],
    ["null", null],
    ["undefined", undefined],
  ];

  it.each(notOurs)("isSessionError is false for %s", (_name, value) => {
    expect(isSessionError(value)).toBe(false);
  });
});
