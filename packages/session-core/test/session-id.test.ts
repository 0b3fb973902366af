import { describe, expect, it } from "vitest";
import {
  assertValidSessionId,
  generateSessionId,
  InvalidSessionIdError,
  isSessionError,
  isValidSessionId,
} from "../src/index.js";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("session ids", () => {
  const valid: Array<[string, string]> = [
    ["one character", "a"],
    ["256 characters", "x".repeat(256)],
    ["the lowest visible character 0x21", "!"],
    ["the highest visible character 0x7E", "~"],
    ["every visible ASCII character", asciiRange(0x21, 0x7e)],
    ["glob characters", "*?[]"],
    ["a UUID", "0b6a2f5e-3c4d-4e5f-8a9b-0c1d2e3f4a5b"],
  ];

  it.each(valid)("accepts %s", (_name, id) => {
    expect(isValidSessionId(id)).toBe(true);
    expect(() => assertValidSessionId(id)).not.toThrow();
  });

  const invalid: Array<[string, unknown]> = [
    ["an empty string", ""],
    ["257 characters", "x".repeat(257)],
    ["a space", "abc def"],
    ["a lone space", " "],
    ["a CR", "abc\rdef"],
    ["a LF", "abc\ndef"],
    ["a CRLF header injection", "abc\r\nSet-Cookie: x=y"],
    ["a tab", "abc\tdef"],
    ["a NUL", "abc\u0000def"],
    ["DEL (0x7F)", "abc\u007fdef"],
    ["a non-ASCII letter", "séssion"],
    ["an emoji", "id-\u{1F600}"],
    ["a lone surrogate", "id-\ud800"],
    ["a number", 42],
    ["undefined", undefined],
    ["null", null],
    ["an object", { id: "abc" }],
    ["a String object", new String("abc")],
  ];

  it.each(invalid)("rejects %s with INVALID_SESSION_ID", (_name, id) => {
    expect(isValidSessionId(id)).toBe(false);
    const error = thrownBy(() => assertValidSessionId(id));
    expect(error).toBeInstanceOf(InvalidSessionIdError);
    expect(error).toMatchObject({ code: "INVALID_SESSION_ID", name: "InvalidSessionIdError" });
    expect(isSessionError(error)).toBe(true);
  });

  it("never quotes a 10 KB id in the message", () => {
    const id = `secret-${"A".repeat(10 * 1024)}`;
    const error = thrownBy(() => assertValidSessionId(id)) as Error;
    expect(error).toBeInstanceOf(InvalidSessionIdError);
    expect(error.message).not.toContain("secret-");
    expect(error.message).not.toContain("AAAA");
    expect(error.message.length).toBeLessThan(200);
  });

  it("never quotes a hostile id in the message", () => {
    const hostile = '<script>alert(1)</script>\r\n{"level":"error"}\u001b[31m';
    const error = thrownBy(() => assertValidSessionId(hostile)) as Error;
    expect(error).toBeInstanceOf(InvalidSessionIdError);
    expect(error.message).not.toContain("<script>");
    expect(error.message).not.toContain("alert");
    for (const control of ["\r", "\n", "\u001b"]) expect(error.message).not.toContain(control);
  });

  it("generates distinct UUID v4 ids that are valid session ids", () => {
    const ids = Array.from({ length: 1000 }, () => generateSessionId());
    for (const id of ids) {
      expect(id).toMatch(UUID_V4);
      expect(isValidSessionId(id)).toBe(true);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});

function asciiRange(from: number, to: number): string {
  let out = "";
  for (let code = from; code <= to; code++) out += String.fromCharCode(code);
  return out;
}
