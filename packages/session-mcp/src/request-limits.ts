import type { Refusal } from "./json-rpc-errors.js";
import { MAX_BATCH_SIZE } from "./sdk-assumptions.js";

/*
 * The handler's own limit on a body, on top of the SDK's body size and batch limits
 * (`sdk-assumptions.ts`), which it applies too: it reads every body and routes some messages to
 * other instances before a transport sees them, so it must refuse what the transport would, first.
 */

/**
 * Deepest nesting of arrays and objects in a body: ours, not the SDK's. `JSON.parse` does not
 * recurse, but `JSON.stringify`, `structuredClone` and a relay's serialisation do, and overflow
 * the stack near 5,000 levels; a 4 MB body can nest two million. 128 (serde_json's limit) is far
 * below the one and far above any real MCP message.
 */
export const MAX_BODY_DEPTH = 128;

/** Why a parsed body is refused before anything reads into it, or `undefined` to go on. */
export function bodyRefusal(value: unknown): Refusal | undefined {
  // The length first: it costs nothing, and a batch over it is not worth walking.
  if (Array.isArray(value) && value.length > MAX_BATCH_SIZE) return "batch-too-large";
  if (nestsDeeperThan(value, MAX_BODY_DEPTH)) return "body-too-deep";
  return undefined;
}

/**
 * True when arrays and objects in `root` nest more than `limit` levels (`{}` is one). It walks
 * with its own stack, never the call stack, so any depth is safe to ask about, and it stops at
 * the first container past the limit.
 */
function nestsDeeperThan(root: unknown, limit: number): boolean {
  // Containers still to visit, and the depth of each, in step.
  const containers: object[] = [];
  const depths: number[] = [];
  if (typeof root === "object" && root !== null) {
    containers.push(root);
    depths.push(1);
  }
  for (let value = containers.pop(); value !== undefined; value = containers.pop()) {
    const depth = depths.pop() as number;
    if (depth > limit) return true;
    for (const child of Array.isArray(value) ? value : Object.values(value)) {
      if (typeof child === "object" && child !== null) {
        containers.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}
