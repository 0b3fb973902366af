import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Compares a stored owner with a presented one in constant time, so response timing tells
 * nothing about how much of an owner matched. A session with no owner matches only a caller
 * that presents none.
 */
export function ownerMatches(stored: string | undefined, presented: string | undefined): boolean {
  if (presented === undefined) return true;
  if (stored === undefined) return false;
  // Hashing first gives equal-length inputs, which timingSafeEqual requires.
  return timingSafeEqual(digest(stored), digest(presented));
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}
