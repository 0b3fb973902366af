import { expect } from "vitest";

/**
 * How long sockets of earlier work may take to close: ioredis waits up to its 2 s
 * `disconnectTimeout` for a server, and a loaded machine adds to that. A passing run is quick.
 */
const SETTLE_WAIT = { timeout: 15_000, interval: 50 } as const;

/**
 * What keeps this process busy that an ioredis connection would hold: sockets, connects in
 * progress, and ref'd timers (a client waiting to reconnect holds only a timer). Names as
 * `process.getActiveResourcesInfo()` gives them (`TCPSocketWrap`, `ConnectWrap`, `Timeout`).
 */
function connectionResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const name of process.getActiveResourcesInfo()) {
    if (name === "Timeout" || name.startsWith("TCP") || name === "ConnectWrap") {
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  }
  return counts;
}

/** Resources above `baseline`, by name; `{}` when there are none. */
export function beyond(baseline: Map<string, number>): Record<string, number> {
  const extra: Record<string, number> = {};
  for (const [name, count] of connectionResources()) {
    const over = count - (baseline.get(name) ?? 0);
    if (over > 0) extra[name] = over;
  }
  return extra;
}

/**
 * The resources once no socket is open, so a socket still closing from earlier work cannot hide
 * a leak. Read inside an `expect.poll` callback, as the final comparison is, so vitest's own
 * poll timer counts on both sides.
 */
export async function baselineResources(): Promise<Map<string, number>> {
  let baseline = new Map<string, number>();
  await expect
    .poll(() => {
      baseline = connectionResources();
      return [...baseline.keys()].filter((name) => name !== "Timeout");
    }, SETTLE_WAIT)
    .toEqual([]);
  return baseline;
}
