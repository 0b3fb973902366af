import type { EndReason } from "@mcp-sessions/session-core";

/**
 * The wire format of the store's channel, `<prefix>:events`, on which every instance announces
 * the sessions it removed and the expiries it claimed, so that every other instance emits
 * `ended`:
 *
 *   d:<instance>:<id>   destroyed: a delete or a clear
 *   e:<instance>:<id>   expired: an expiry claim
 *
 * The scripts publish them (deleteSession, claimExpired, clearSessions) from the start this file
 * gives, with the session id appended. Instance ids hold no ":"; session ids may.
 */
export interface StoreMessage {
  readonly reason: EndReason;
  /** The instance that published it; it has delivered `ended` itself. */
  readonly instanceId: string;
  readonly id: string;
}

const TAGS = { destroyed: "d", expired: "e" } as const satisfies Record<EndReason, string>;

/** The start of the messages of `reason` from `instanceId`; a session id completes one. */
export function storeMessagePrefix(reason: EndReason, instanceId: string): string {
  return `${TAGS[reason]}:${instanceId}:`;
}

/** The message `payload` holds, or undefined when it is not one. */
export function parseStoreMessage(payload: string): StoreMessage | undefined {
  const reason = payload.startsWith(`${TAGS.destroyed}:`)
    ? "destroyed"
    : payload.startsWith(`${TAGS.expired}:`)
      ? "expired"
      : undefined;
  const separator = payload.indexOf(":", 2);
  if (reason === undefined || separator === -1 || separator === payload.length - 1) {
    return undefined;
  }
  return { reason, instanceId: payload.slice(2, separator), id: payload.slice(separator + 1) };
}
