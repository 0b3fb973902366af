/**
 * Runs every benchmark group (or those whose name contains one of the command-line arguments),
 * prints one markdown table to stdout and writes the full results, samples included, to
 * `packages/bench/results/<timestamp>.json`. Progress goes to stderr.
 */
import { fileURLToPath } from "node:url";
import {
  type BenchmarkGroup,
  collectGarbage,
  describeEnvironment,
  formatTable,
  progress,
  type Row,
  TIMES_BETTER_HEADER,
  writeJsonReport,
} from "./harness.js";
import { mcpAdoption } from "./mcp/adoption.js";
import { mcpFleetMessaging } from "./mcp/fleet-messaging.js";
import { mcpThroughput } from "./mcp/throughput.js";
import { memoryExpiryLateness } from "./memory/expiry-lateness.js";
import { memoryHeap } from "./memory/heap.js";
import { memoryOperations } from "./memory/operations.js";
import { memorySweep } from "./memory/sweep.js";
import { redisEventLog } from "./redis/event-log.js";
import { redisExpiryLateness } from "./redis/expiry-lateness.js";
import { redisFleetExpiry } from "./redis/fleet-expiry.js";
import { redisMemory } from "./redis/memory.js";
import { redisThroughput } from "./redis/throughput.js";
import { redisTouchScaling } from "./redis/touch-scaling.js";

const GROUPS: readonly BenchmarkGroup[] = [
  memoryOperations,
  memorySweep,
  memoryExpiryLateness,
  memoryHeap,
  redisThroughput,
  redisExpiryLateness,
  redisFleetExpiry,
  redisMemory,
  redisTouchScaling,
  redisEventLog,
  mcpThroughput,
  mcpAdoption,
  mcpFleetMessaging,
];
const RESULTS_DIRECTORY = fileURLToPath(new URL("../results/", import.meta.url));

async function main(filters: readonly string[]): Promise<void> {
  const groups =
    filters.length === 0
      ? GROUPS
      : GROUPS.filter((group) => filters.some((f) => group.name.includes(f)));
  if (groups.length === 0) {
    throw new Error(
      `No benchmark group matches ${filters.join(", ")}; groups are ${GROUPS.map((g) => g.name).join(", ")}`,
    );
  }
  collectGarbage(); // fails fast without --expose-gc

  const startedAt = new Date();
  const rows: Row[] = [];
  for (const group of groups) {
    const started = Date.now();
    progress(`${group.name}: starting`);
    rows.push(...(await group.run()));
    progress(`${group.name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const durationMs = Date.now() - startedAt.getTime();

  process.stdout.write(`${formatTable(rows)}\n`);
  const file = writeJsonReport(RESULTS_DIRECTORY, startedAt, {
    startedAt: startedAt.toISOString(),
    durationMs,
    environment: describeEnvironment(),
    ratio: TIMES_BETTER_HEADER,
    rows,
  });
  progress(`finished in ${(durationMs / 1000).toFixed(1)} s; results in ${file}`);
}

try {
  // `pnpm bench -- sweep` passes the `--` through.
  await main(process.argv.slice(2).filter((arg) => arg !== "--"));
} catch (error) {
  progress(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
}
