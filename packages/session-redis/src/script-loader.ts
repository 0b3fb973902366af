import type { Cluster, Redis } from "ioredis";
import * as lua from "./lua/scripts.generated.js";

/**
 * The registry of the store's Lua commands, as BullMQ's script-loader is: every script of
 * src/lua, embedded at build time by scripts/generate-lua.mjs, defined on a client with ioredis
 * `defineCommand` under its versioned name (`mcpSessions:<command>:<sha8>`). ioredis sends
 * EVALSHA, and EVAL once after a NOSCRIPT (a restarted or flushed server).
 */

export type ScriptArgument = string | number;
export type ScriptCommand = (...args: ScriptArgument[]) => Promise<unknown>;

const SCRIPTS: readonly lua.LuaScript[] = Object.values(lua);

/** Defines every script on `client`, once: a second store on the same client reuses them. */
export function defineScripts(client: Redis | Cluster): void {
  for (const script of SCRIPTS) {
    if (typeof (client as unknown as Record<string, unknown>)[script.name] !== "function") {
      client.defineCommand(
        script.name,
        script.numberOfKeys === undefined
          ? { lua: script.lua }
          : { lua: script.lua, numberOfKeys: script.numberOfKeys },
      );
    }
  }
}

/** `script` as `defineScripts` defined it on `client`. */
export function scriptCommand(client: Redis | Cluster, script: lua.LuaScript): ScriptCommand {
  const command = (client as unknown as Record<string, ScriptCommand>)[script.name];
  if (command === undefined) throw new Error(`Redis command ${script.name} is not defined`);
  return command.bind(client);
}
