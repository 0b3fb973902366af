import { afterEach, describe, expect, it } from "vitest";
import { InvalidMetadataError, isSessionError } from "../src/index.js";
import { parseMetadata, validateMetadata } from "../src/store.js";

const SECRET = "s3cr3t-tok3n-do-not-leak";
const MAX = 16_384;

function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`expected an Error, got ${typeof error}`);
  }
  throw new Error("expected a throw");
}

function expectInvalid(value: unknown, maxBytes = MAX): InvalidMetadataError {
  const error = thrownBy(() => validateMetadata(value, maxBytes));
  expect(error).toBeInstanceOf(InvalidMetadataError);
  expect(error).toMatchObject({ code: "INVALID_METADATA", name: "InvalidMetadataError" });
  expect(isSessionError(error)).toBe(true);
  expect(error.message).not.toContain(SECRET);
  return error as InvalidMetadataError;
}

class Token {
  value = SECRET;
}

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { token: SECRET };
  for (let i = 0; i < depth; i++) value = { child: value };
  return value;
}

describe("validateMetadata", () => {
  it("rejects a circular object", () => {
    const value: Record<string, unknown> = { token: SECRET };
    value.self = value;
    expectInvalid(value);
  });

  it("rejects a circular array", () => {
    const list: unknown[] = [SECRET];
    list.push(list);
    expectInvalid({ token: SECRET, list });
  });

  const rejected: Array<[string, unknown]> = [
    ["a BigInt", { token: SECRET, big: 10n }],
    ["a function", { token: SECRET, fn: () => SECRET }],
    ["a symbol", { token: SECRET, sym: Symbol(SECRET) }],
    ["an undefined value", { token: SECRET, missing: undefined }],
    ["NaN", { token: SECRET, n: Number.NaN }],
    ["Infinity", { token: SECRET, n: Number.POSITIVE_INFINITY }],
    ["-Infinity", { token: SECRET, n: Number.NEGATIVE_INFINITY }],
    ["a Date", { token: SECRET, at: new Date(0) }],
    ["a Map", { token: SECRET, map: new Map([[SECRET, SECRET]]) }],
    ["a Set", { token: SECRET, set: new Set([SECRET]) }],
    ["a class instance", { token: SECRET, owner: new Token() }],
    ["a class instance at the top", new Token()],
    ["a BigInt inside an array", { token: SECRET, list: [1, 2n] }],
    ["a top-level array", [SECRET]],
    ["top-level null", null],
    ["a top-level string", SECRET],
    ["a top-level number", 42],
    ["top-level undefined", undefined],
    ["a top-level Date", new Date(0)],
    ["an own __proto__ key", JSON.parse(`{"token":"${SECRET}","__proto__":{}}`)],
    ["a nested own __proto__ key", JSON.parse(`{"a":{"__proto__":{"x":"${SECRET}"}}}`)],
    ["nesting deeper than 32 levels", nested(40)],
    ["very deep nesting", nested(100_000)],
  ];

  it.each(rejected)("rejects %s with INVALID_METADATA", (_name, value) => {
    expectInvalid(value);
  });

  it("accepts nesting up to the limit", () => {
    expect(() => validateMetadata(nested(31), MAX)).not.toThrow();
  });

  it("rejects metadata over maxBytes", () => {
    expectInvalid({ token: SECRET, blob: "x".repeat(200) }, 100);
  });

  it("counts UTF-8 bytes, not characters", () => {
    // {"v":"ééé…"} : 8 bytes of framing + 2 bytes per "é"
    const value = { v: "é".repeat(46) };
    expect(JSON.stringify(value).length).toBe(54);
    expect(() => validateMetadata(value, 100)).not.toThrow();
    const over = { v: "é".repeat(47), token: SECRET };
    expect(JSON.stringify(over).length).toBeLessThan(100);
    expectInvalid(over, 100);
  });

  it("accepts metadata of exactly maxBytes", () => {
    const value = { v: "x".repeat(92) };
    expect(Buffer.byteLength(JSON.stringify(value))).toBe(100);
    expect(validateMetadata(value, 100).json).toBe(JSON.stringify(value));
    expectInvalid({ v: "x".repeat(93) }, 100);
  });

  it("accepts plain JSON, including null-prototype objects and constructor keys", () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
    const value = {
      s: "text",
      n: -1.5,
      b: false,
      z: null,
      list: [1, "two", { three: [3] }],
      bare,
      constructor: { prototype: { polluted: 1 } },
    };
    const { json, metadata } = validateMetadata(value, MAX);
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(value)));
    expect(metadata).toEqual(JSON.parse(JSON.stringify(value)));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("returns a copy that later mutation of the input does not change", () => {
    const input = { plan: "pro", limits: { calls: 10 }, tags: ["a"] };
    const { json, metadata } = validateMetadata(input, MAX);
    input.plan = "free";
    input.limits.calls = 999;
    input.tags.push("b");
    (input as Record<string, unknown>).extra = true;
    expect(metadata).toEqual({ plan: "pro", limits: { calls: 10 }, tags: ["a"] });
    expect(json).toBe('{"plan":"pro","limits":{"calls":10},"tags":["a"]}');
    expect(metadata).not.toBe(input);
    expect(metadata.limits).not.toBe(input.limits);
  });

  it("never quotes values in any rejection message", () => {
    const cases: unknown[] = rejected.map(([, value]) => value);
    for (const value of cases) {
      const error = thrownBy(() => validateMetadata(value, MAX));
      expect(error.message).not.toContain(SECRET);
    }
  });
});

describe("parseMetadata", () => {
  afterEach(() => {
    delete (Object.prototype as Record<string, unknown>).polluted;
  });

  it("parses a JSON object", () => {
    expect(parseMetadata('{"a":[1,{"b":null}]}')).toEqual({ a: [1, { b: null }] });
  });

  it("refuses a top-level __proto__ key", () => {
    const error = thrownBy(() => parseMetadata('{"__proto__":{"polluted":1}}'));
    expect(error).toMatchObject({ code: "INVALID_METADATA" });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses a nested __proto__ key", () => {
    const error = thrownBy(() => parseMetadata('{"a":{"b":{"__proto__":{"polluted":1}}}}'));
    expect(error).toMatchObject({ code: "INVALID_METADATA" });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("does not pollute Object.prototype through constructor.prototype", () => {
    const parsed = parseMetadata('{"constructor":{"prototype":{"polluted":1}}}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
    // The key is data: an own property, not the real constructor.
    expect(Object.hasOwn(parsed, "constructor")).toBe(true);
    expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
  });

  it("merging parsed metadata into another object cannot pollute", () => {
    const target: Record<string, unknown> = {};
    for (const json of [
      '{"__proto__":{"polluted":1}}',
      '{"constructor":{"prototype":{"polluted":1}}}',
    ]) {
      try {
        Object.assign(target, parseMetadata(json));
      } catch (error) {
        expect(error).toMatchObject({ code: "INVALID_METADATA" });
      }
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  const invalid: Array<[string, string]> = [
    ["invalid JSON", `{"token":"${SECRET}"`],
    ["an array", `["${SECRET}"]`],
    ["null", "null"],
    ["a string", `"${SECRET}"`],
    ["a number", "1"],
  ];

  it.each(invalid)(
    "refuses %s with INVALID_METADATA and no value in the message",
    (_name, json) => {
      const error = thrownBy(() => parseMetadata(json));
      expect(error).toBeInstanceOf(InvalidMetadataError);
      expect(error).toMatchObject({ code: "INVALID_METADATA" });
      expect(error.message).not.toContain(SECRET);
    },
  );
});
