/**
 * What the Redis groups read about the server and the wire: command counts (from `INFO` on the
 * server, and from ioredis's documented `diagnostics_channel` on the client), memory
 * (`INFO memory`, `MEMORY USAGE`) and key listings (`SCAN … TYPE`). All of it runs on an admin
 * client of its own, outside timed sections.
 */
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import type { Redis } from "ioredis";

/** ioredis publishes every command it writes here (`TracingChannel` "start" sub-event). */
const COMMAND_START_CHANNEL = "tracing:ioredis:command:start";

function infoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon > 0 && !line.startsWith("#")) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

function infoNumber(fields: ReadonlyMap<string, string>, name: string): number {
  const value = Number(fields.get(name));
  if (!Number.isFinite(value)) throw new Error(`INFO has no numeric \`${name}\``);
  return value;
}

/** Commands the server has executed, in total and per command (`cmdstat_<name>` calls). */
export interface CommandStats {
  /** `total_commands_processed`: commands run inside Lua scripts count too. */
  readonly total: number;
  readonly calls: ReadonlyMap<string, number>;
  /** Microseconds Redis spent per command name (`cmdstat_<name>` usec). */
  readonly usec: ReadonlyMap<string, number>;
}

export async function commandStats(admin: Redis): Promise<CommandStats> {
  const fields = infoFields(await admin.info("stats", "commandstats"));
  const calls = new Map<string, number>();
  const usec = new Map<string, number>();
  for (const [field, value] of fields) {
    if (!field.startsWith("cmdstat_")) continue;
    const name = field.slice("cmdstat_".length);
    calls.set(name, Number(/(?:^|,)calls=(\d+)/.exec(value)?.[1] ?? 0));
    usec.set(name, Number(/(?:^|,)usec=(\d+)/.exec(value)?.[1] ?? 0));
  }
  return { total: infoNumber(fields, "total_commands_processed"), calls, usec };
}

/**
 * What ran between two readings, per command: calls and microseconds. The stats are updated
 * after a command runs, so `after` includes the INFO that took `before`: INFO is left out.
 */
export function commandStatsDelta(
  before: CommandStats,
  after: CommandStats,
): { total: number; calls: Map<string, number>; usec: Map<string, number> } {
  const calls = new Map<string, number>();
  const usec = new Map<string, number>();
  for (const [name, count] of after.calls) {
    const delta = count - (before.calls.get(name) ?? 0);
    if (name === "info" || delta <= 0) continue;
    calls.set(name, delta);
    usec.set(name, (after.usec.get(name) ?? 0) - (before.usec.get(name) ?? 0));
  }
  return { total: after.total - before.total - 1, calls, usec };
}

/** `used_memory` from `INFO memory`, in bytes. */
export async function usedMemory(admin: Redis): Promise<number> {
  return infoNumber(infoFields(await admin.info("memory")), "used_memory");
}

/** CPU time the server has used (`INFO cpu` `used_cpu_user` + `used_cpu_sys`), in µs. */
export async function serverCpuMicros(admin: Redis): Promise<number> {
  const fields = infoFields(await admin.info("cpu"));
  return Math.round(
    (infoNumber(fields, "used_cpu_user") + infoNumber(fields, "used_cpu_sys")) * 1_000_000,
  );
}

/** `MEMORY USAGE <key> SAMPLES 0`: every element counted, not estimated from a sample. */
export async function memoryUsage(admin: Redis, key: string): Promise<number> {
  const bytes = await admin.memory("USAGE", key, "SAMPLES", 0);
  if (bytes === null) throw new Error("MEMORY USAGE found no such key");
  return bytes;
}

/** Keys of one Redis type matching `pattern` (a fixed prefix and `*`), up to `limit`. */
export async function scanKeys(
  admin: Redis,
  pattern: string,
  type: "hash" | "zset" | "string",
  limit = Number.POSITIVE_INFINITY,
): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, page] = await admin.scan(cursor, "MATCH", pattern, "COUNT", 10_000, "TYPE", type);
    cursor = next;
    for (const key of page) if (keys.length < limit) keys.push(key);
  } while (cursor !== "0" && keys.length < limit);
  return keys;
}

/**
 * Counts the commands ioredis writes to the wire while `run` runs, by command name; each one is
 * a request the server answers, so this is the round-trip count. It listens on ioredis's
 * documented diagnostics channel, which wraps every command in a traced promise while anyone
 * listens: use it in untimed passes only. Every client in the process is counted, so nothing
 * else may send meanwhile.
 */
export async function countClientCommands(
  run: () => Promise<void>,
): Promise<{ total: number; calls: Map<string, number> }> {
  const calls = new Map<string, number>();
  let total = 0;
  const listener = (message: unknown) => {
    const command = (message as { command?: unknown }).command;
    const name = typeof command === "string" ? command.toLowerCase() : "?";
    calls.set(name, (calls.get(name) ?? 0) + 1);
    total++;
  };
  subscribe(COMMAND_START_CHANNEL, listener);
  try {
    await run();
  } finally {
    unsubscribe(COMMAND_START_CHANNEL, listener);
  }
  return { total, calls };
}

/** `calls` per operation, as `evalsha 1.00, hgetall 1.00`, largest first. */
export function describePerOperation(
  calls: ReadonlyMap<string, number>,
  operations: number,
): string {
  return [...calls]
    .sort((a, b) => b[1] - a[1])
    .map(([name, count]) => `${name} ${(count / operations).toFixed(2)}`)
    .join(", ");
}
