/**
 * Ids that carry an address. Member ids and log positions never contain ".", so the last "."
 * splits each id unambiguously.
 *
 *   "<member>.<n>"          a server→client request id: request `n` of that member's server
 *   "<stream>.<position>"   an SSE event id: the event at `position` of the session's log, on
 *                           stream `stream` (the SDK's stream id)
 */

/**
 * The fleet-wide id of request `localId` sent by the server on member `memberId`. Every instance
 * numbers its requests from 0, so a bare number would name different requests of one session.
 */
export function routedRequestId(memberId: string, localId: number): string {
  return `${memberId}.${localId}`;
}

/** The member and local id in a `routedRequestId`, or `undefined` for any other id. */
export function parseRoutedRequestId(
  id: unknown,
): { readonly memberId: string; readonly localId: number } | undefined {
  if (typeof id !== "string") return undefined;
  const dot = id.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const digits = id.slice(dot + 1);
  if (!/^\d{1,15}$/.test(digits)) return undefined;
  return { memberId: id.slice(0, dot), localId: Number(digits) };
}

export function eventId(streamId: string, position: string): string {
  return `${streamId}.${position}`;
}

/** The stream and position in an `eventId`, or `undefined` when it is not one. */
export function parseEventId(
  id: string,
): { readonly streamId: string; readonly position: string } | undefined {
  const dot = id.lastIndexOf(".");
  if (dot <= 0 || dot === id.length - 1) return undefined;
  return { streamId: id.slice(0, dot), position: id.slice(dot + 1) };
}
