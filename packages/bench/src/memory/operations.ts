/**
 * create, get and touch per second through `SessionManager` + `MemorySessionStore`, against a
 * raw `Map` doing the same work synchronously, as the seed did. Each run is a batch of
 * sequentially awaited operations on a store pre-populated to the given size.
 */
import { performance } from "node:perf_hooks";
import type { SessionManager } from "@mcp-sessions/session-core";
import {
  type BenchmarkGroup,
  collectGarbage,
  compare,
  opsPerSecond,
  progress,
  type RepeatOptions,
  type Row,
  randomIndices,
  repeat,
  shortCount,
} from "../harness.js";
import {
  INITIALIZE_METADATA,
  memoryManager,
  type SeedRecord,
  seedRecord,
  TTL_MS,
} from "./fixtures.js";

const LIVE_SIZES = [10_000, 1_000_000] as const;
const OPERATIONS_PER_RUN = 100_000;
const REPEAT: RepeatOptions = { warmup: 1, runs: 5 };
const SEED = 0x5e55;
const OPERATIONS = ["create", "get", "touch"] as const;

type Operation = (typeof OPERATIONS)[number];
type Samples = Record<Operation, number[]>;

/**
 * Creates would grow the store by a whole batch, so they run in chunks of a tenth of the live
 * size, each removed again (untimed) before the next: the size stays within 10% of its label.
 */
function createChunk(live: number): number {
  return Math.min(OPERATIONS_PER_RUN, live / 10);
}

async function measureManager(live: number): Promise<Samples> {
  const manager = memoryManager();
  const ids: string[] = [];
  for (let i = 0; i < live; i++) ids.push((await manager.create(INITIALIZE_METADATA)).id);
  const picks = randomIndices(OPERATIONS_PER_RUN, live, SEED);
  const label = `manager @ ${shortCount(live)}`;
  collectGarbage();

  const create = await repeat(`${label} create`, REPEAT, async () => {
    const chunk = createChunk(live);
    const made: string[] = new Array(chunk);
    let elapsed = 0;
    for (let done = 0; done < OPERATIONS_PER_RUN; done += chunk) {
      const started = performance.now();
      for (let i = 0; i < chunk; i++) made[i] = (await manager.create(INITIALIZE_METADATA)).id;
      elapsed += performance.now() - started;
      for (const id of made) await manager.cleanup(id);
    }
    return opsPerSecond(OPERATIONS_PER_RUN, elapsed);
  });

  const get = await repeat(`${label} get`, REPEAT, async () => {
    let found = 0;
    const started = performance.now();
    for (const pick of picks) if (await manager.get(ids[pick] as string)) found++;
    const elapsed = performance.now() - started;
    assertAllFound("get", found);
    return opsPerSecond(OPERATIONS_PER_RUN, elapsed);
  });

  const touch = await repeat(`${label} touch`, REPEAT, async () => {
    let found = 0;
    const started = performance.now();
    for (const pick of picks) if (await manager.touch(ids[pick] as string)) found++;
    const elapsed = performance.now() - started;
    assertAllFound("touch", found);
    return opsPerSecond(OPERATIONS_PER_RUN, elapsed);
  });

  await closeAndCheck(manager, live);
  return { create, get, touch };
}

async function measureMap(live: number): Promise<Samples> {
  const sessions = new Map<string, SeedRecord>();
  const ids: string[] = [];
  for (let i = 0; i < live; i++) {
    const record = seedRecord(Date.now(), INITIALIZE_METADATA);
    sessions.set(record.id, record);
    ids.push(record.id);
  }
  const picks = randomIndices(OPERATIONS_PER_RUN, live, SEED);
  const label = `Map @ ${shortCount(live)}`;
  collectGarbage();

  const create = await repeat(`${label} create`, REPEAT, async () => {
    const chunk = createChunk(live);
    const made: string[] = new Array(chunk);
    let elapsed = 0;
    for (let done = 0; done < OPERATIONS_PER_RUN; done += chunk) {
      const started = performance.now();
      for (let i = 0; i < chunk; i++) {
        const record = seedRecord(Date.now(), INITIALIZE_METADATA);
        sessions.set(record.id, record);
        made[i] = record.id;
      }
      elapsed += performance.now() - started;
      for (const id of made) sessions.delete(id);
    }
    return opsPerSecond(OPERATIONS_PER_RUN, elapsed);
  });

  const get = await repeat(`${label} get`, REPEAT, async () => {
    let found = 0;
    const started = performance.now();
    for (const pick of picks) if (sessions.get(ids[pick] as string) !== undefined) found++;
    const elapsed = performance.now() - started;
    assertAllFound("get", found);
    return opsPerSecond(OPERATIONS_PER_RUN, elapsed);
  });

  const touch = await repeat(`${label} touch`, REPEAT, async () => {
    let found = 0;
    const started = performance.now();
    for (const pick of picks) {
      const id = ids[pick] as string;
      const record = sessions.get(id);
      if (record === undefined) continue;
      const now = Date.now();
      sessions.set(id, { ...record, lastAccessedAt: now, expiresAt: now + TTL_MS });
      found++;
    }
    const elapsed = performance.now() - started;
    assertAllFound("touch", found);
    return opsPerSecond(OPERATIONS_PER_RUN, elapsed);
  });

  if (sessions.size !== live)
    throw new Error(`Map holds ${sessions.size} sessions, expected ${live}`);
  return { create, get, touch };
}

function assertAllFound(operation: Operation, found: number): void {
  if (found !== OPERATIONS_PER_RUN) {
    throw new Error(`${operation} found ${found} of ${OPERATIONS_PER_RUN} sessions`);
  }
}

async function closeAndCheck(manager: SessionManager, live: number): Promise<void> {
  const count = await manager.getActiveSessionCount();
  await manager.close();
  if (count !== live) throw new Error(`The store holds ${count} sessions, expected ${live}`);
}

export const memoryOperations: BenchmarkGroup = {
  name: "memory/operations",
  async run(): Promise<Row[]> {
    const rows: Row[] = [];
    for (const live of LIVE_SIZES) {
      progress(`memory/operations: populating ${shortCount(live)} sessions per side`);
      const ours = await measureManager(live);
      collectGarbage();
      const baseline = await measureMap(live);
      collectGarbage();
      for (const operation of OPERATIONS) {
        rows.push(
          compare(
            {
              group: "memory/operations",
              name: `${operation} @ ${shortCount(live)} live`,
              unit: "ops/s",
              better: "higher",
              baselineLabel: `raw Map, sync (${operation === "touch" ? "get + set new record" : `Map.${operation === "create" ? "set" : "get"}`})`,
            },
            ours[operation],
            baseline[operation],
          ),
        );
      }
    }
    return rows;
  },
};
