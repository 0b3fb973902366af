import { type AsyncHook, createHook } from "node:async_hooks";

/** Timers and sockets, including unref'd timers, which `getActiveResourcesInfo` leaves out. */
const TRACKED_TYPES = new Set(["Timeout", "TCPWRAP", "TCPSERVERWRAP"]);

/**
 * Records every timer and socket created while it runs, with the stack that created it, until
 * the resource is destroyed (a timer cleared or fired, a socket closed).
 */
export class ResourceTracker {
  readonly #live = new Map<number, { type: string; stack: string }>();
  readonly #hook: AsyncHook;
  #stackTraceLimit = Error.stackTraceLimit;

  constructor() {
    this.#hook = createHook({
      init: (asyncId, type) => {
        if (TRACKED_TYPES.has(type))
          this.#live.set(asyncId, { type, stack: new Error().stack ?? "" });
      },
      destroy: (asyncId) => {
        this.#live.delete(asyncId);
      },
    });
  }

  start(): void {
    this.#stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 50;
    this.#hook.enable();
  }

  stop(): void {
    this.#hook.disable();
    Error.stackTraceLimit = this.#stackTraceLimit;
  }

  /** The types of resources still alive whose creating stack matches `origin`. */
  live(origin: RegExp): string[] {
    return [...this.#live.values()]
      .filter(({ stack }) => origin.test(stack))
      .map(({ type }) => type)
      .sort();
  }
}

/** How many of each kind of resource keeps the event loop alive now. */
export function activeResourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** The kinds of resource of which there are more now than in `baseline`, and how many more. */
export function resourcesBeyond(baseline: Record<string, number>): Record<string, number> {
  const excess: Record<string, number> = {};
  for (const [type, count] of Object.entries(activeResourceCounts())) {
    if (count > (baseline[type] ?? 0)) excess[type] = count - (baseline[type] ?? 0);
  }
  return excess;
}
