import { describe, expect, it } from "vitest";
import { ownerMatches } from "../src/store.js";

describe("ownerMatches", () => {
  const table: Array<[string | undefined, string | undefined, boolean]> = [
    // [stored, presented, matches]
    [undefined, undefined, true],
    ["alice", undefined, true],
    ["alice", "alice", true],
    ["", "", true],
    ["ålice-😀", "ålice-😀", true],
    [undefined, "alice", false],
    [undefined, "", false],
    ["alice", "bob", false],
    ["alice", "Alice", false],
    ["alice", "alice ", false],
    ["alice", "alic", false],
    ["alice", "alicealice", false],
    ["alice", "", false],
    ["", "alice", false],
    ["a".repeat(10_000), "a".repeat(10_000), true],
    ["a".repeat(10_000), `${"a".repeat(9_999)}b`, false],
  ];

  it.each(table)("stored %j, presented %j → %j", (stored, presented, expected) => {
    expect(ownerMatches(stored, presented)).toBe(expected);
  });
});
