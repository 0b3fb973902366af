/**
 * Heap bytes per live session: `SessionManager` + `MemorySessionStore` against a raw `Map` of the
 * same records. Each session gets its own metadata object, parsed from JSON as a server parses
 * an initialize request; each side keeps whatever it keeps of it.
 *
 * There are two baselines. The fair one holds flat ids, as the manager does, so the ratio is
 * the store's own overhead. The seed's kept `randomUUID()` ropes as they came (see `flattened`).
 */
import type { SessionMetadata } from "@mcp-sessions/session-core";
import {
  type BenchmarkGroup,
  collectGarbage,
  compare,
  type RepeatOptions,
  type Row,
  repeat,
  shortCount,
} from "../harness.js";
import {
  flattened,
  INITIALIZE_JSON,
  memoryManager,
  type SeedRecord,
  seedRecord,
} from "./fixtures.js";

const SESSIONS = 100_000;
const REPEAT: RepeatOptions = { warmup: 1, runs: 5 };

type IdForm = "flat" | "rope";

function initializeParams(): SessionMetadata {
  return JSON.parse(INITIALIZE_JSON) as SessionMetadata;
}

function heapUsed(): number {
  // A second pass collects what the first one only finalised.
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

async function bytesPerManagedSession(): Promise<number> {
  const before = heapUsed();
  const manager = memoryManager();
  for (let i = 0; i < SESSIONS; i++) await manager.create(initializeParams());
  const after = heapUsed();
  const count = await manager.getActiveSessionCount();
  await manager.close();
  if (count !== SESSIONS)
    throw new Error(`The store holds ${count} sessions, expected ${SESSIONS}`);
  return (after - before) / SESSIONS;
}

async function bytesPerMapSession(ids: IdForm): Promise<number> {
  const before = heapUsed();
  const sessions = new Map<string, SeedRecord>();
  for (let i = 0; i < SESSIONS; i++) {
    const record = seedRecord(Date.now(), initializeParams());
    if (ids === "flat") record.id = flattened(record.id);
    sessions.set(record.id, record);
  }
  const after = heapUsed();
  if (sessions.size !== SESSIONS) {
    throw new Error(`Map holds ${sessions.size} sessions, expected ${SESSIONS}`);
  }
  return (after - before) / SESSIONS;
}

export const memoryHeap: BenchmarkGroup = {
  name: "memory/heap",
  async run(): Promise<Row[]> {
    const label = `${shortCount(SESSIONS)} live`;
    const ours = await repeat(`manager heap @ ${label}`, REPEAT, bytesPerManagedSession);
    const flat = await repeat(`Map heap (flat ids) @ ${label}`, REPEAT, () =>
      bytesPerMapSession("flat"),
    );
    const rope = await repeat(`Map heap (rope ids) @ ${label}`, REPEAT, () =>
      bytesPerMapSession("rope"),
    );
    const row = (baselineLabel: string, baseline: number[]) =>
      compare(
        {
          group: "memory/heap",
          name: `heap per session @ ${label}, initialize-params metadata`,
          unit: "bytes/session",
          better: "lower",
          baselineLabel,
        },
        ours,
        baseline,
      );
    return [
      row("raw Map of the same records, flat ids", flat),
      row("raw Map, ids as randomUUID() returns them (seed)", rope),
    ];
  },
};
