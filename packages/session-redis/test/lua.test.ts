import { describe, expect, it } from "vitest";
import * as lua from "../src/lua/scripts.generated.js";

// scripts/generate-lua.mjs embeds src/lua/*.lua, with their `--- @include` fragments expanded.

describe("generated Lua", () => {
  it("expands every include, once per script, and defines no command for a fragment", () => {
    const scripts = Object.values(lua);
    expect(scripts.filter((script) => script.lua.includes("@include"))).toEqual([]);
    expect(scripts.map((script) => script.name.split(":")[1]).sort()).toEqual([
      "claimExpired",
      "clearSessions",
      "createSession",
      "deleteSession",
      "holdStream",
      "publishEvent",
      "releaseStream",
      "touchSession",
    ]);
    // The three scripts that end a session share one fragment for it.
    for (const script of [lua.claimExpired, lua.clearSessions, lua.deleteSession]) {
      expect(script.lua.split("local function removeSession(")).toHaveLength(2);
    }
  });
});
