import { InvalidMetadataError } from "./errors.js";
import type { SessionMetadata } from "./session.js";

/** Nesting beyond this is refused, so hostile input cannot exhaust the stack. */
const MAX_METADATA_DEPTH = 32;

/** Metadata checked and copied: `json` is what a store writes, `metadata` a private copy. */
export interface ValidatedMetadata {
  readonly json: string;
  readonly metadata: SessionMetadata;
}

/**
 * Checks that `value` is a plain JSON object of at most `maxBytes` UTF-8 bytes once serialised,
 * and returns a copy the caller can no longer mutate through its own references.
 * Messages name the path and the kind of the offending value, never the value itself.
 * @throws InvalidMetadataError (`INVALID_METADATA`)
 */
export function validateMetadata(value: unknown, maxBytes: number): ValidatedMetadata {
  if (!isPlainObject(value)) {
    throw new InvalidMetadataError(`Expected metadata to be a plain object, got ${kindOf(value)}`);
  }
  let json: string;
  try {
    assertJson(value, "metadata", new Set(), 0);
    // Serialise what was checked; a getter that changes its answer still yields plain JSON here.
    json = JSON.stringify(value);
  } catch (error) {
    if (error instanceof InvalidMetadataError) throw error;
    throw new InvalidMetadataError("Metadata could not be read as JSON (a getter threw?)", {
      cause: error,
    });
  }
  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes > maxBytes) {
    throw new InvalidMetadataError(
      `Metadata is ${bytes} bytes as JSON, over \`maxMetadataBytes\` (${maxBytes}); store less or raise the limit`,
    );
  }
  return { json, metadata: parseMetadata(json) };
}

/**
 * Parses metadata that a store read back. A `__proto__` key cannot come from `validateMetadata`,
 * so one here means the stored data was altered outside this library; it is refused rather than
 * handed to code that might merge it into another object.
 * @throws InvalidMetadataError (`INVALID_METADATA`)
 */
export function parseMetadata(json: string): SessionMetadata {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json, (key, nested: unknown) => {
      if (key === "__proto__") {
        throw new InvalidMetadataError("Stored metadata has a `__proto__` key");
      }
      return nested;
    });
  } catch (error) {
    if (error instanceof InvalidMetadataError) throw error;
    throw new InvalidMetadataError("Stored metadata is not valid JSON", { cause: error });
  }
  if (!isPlainObject(parsed)) {
    throw new InvalidMetadataError(`Stored metadata is ${kindOf(parsed)}, not an object`);
  }
  return parsed as SessionMetadata;
}

function assertJson(value: unknown, path: string, ancestors: Set<object>, depth: number): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (Number.isFinite(value)) return;
      throw new InvalidMetadataError(
        `${shortPath(path)} is a non-finite number, which JSON cannot hold`,
      );
    case "object": {
      if (value === null) return;
      if (depth >= MAX_METADATA_DEPTH) {
        throw new InvalidMetadataError(
          `${shortPath(path)} nests deeper than ${MAX_METADATA_DEPTH} levels`,
        );
      }
      if (ancestors.has(value))
        throw new InvalidMetadataError(`${shortPath(path)} is a circular reference`);
      ancestors.add(value);
      if (Array.isArray(value)) {
        for (const [index, item] of value.entries()) {
          assertJson(item, `${path}[${index}]`, ancestors, depth + 1);
        }
      } else if (isPlainObject(value)) {
        for (const key of Object.keys(value)) {
          if (key === "__proto__") {
            throw new InvalidMetadataError(
              `${shortPath(path)} has a \`__proto__\` key, which is not allowed`,
            );
          }
          assertJson(value[key], `${path}.${key}`, ancestors, depth + 1);
        }
      } else {
        throw new InvalidMetadataError(`${shortPath(path)} is ${kindOf(value)}, not plain JSON`);
      }
      ancestors.delete(value);
      return;
    }
    default:
      throw new InvalidMetadataError(
        `${shortPath(path)} is ${kindOf(value)}, which JSON cannot hold`,
      );
  }
}

/** Keys are caller data too: keep a hostile or huge one from flooding a log line. */
function shortPath(path: string): string {
  return path.length <= 120 ? path : `${path.slice(0, 117)}...`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === "string" && name !== "Object" ? `a ${name}` : "an object";
  }
  return `a ${typeof value}`;
}
