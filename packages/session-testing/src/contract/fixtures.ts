import { randomUUID } from "node:crypto";
import {
  type EndReason,
  isSessionError,
  type SessionRecord,
  type SessionStore,
} from "@mcp-sessions/session-core";
import { expect } from "vitest";

/** What each concern's tests get from `describeSessionStore`. */
export interface ContractContext {
  /** A fresh, isolated store from the user's factory; the suite closes it after the test. */
  openStore(): Promise<SessionStore>;
}

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

/**
 * How `expect.poll` waits for a signal. Delivery may be asynchronous (Redis pub/sub), so the
 * bound is generous; a passing run returns as soon as the signal is there.
 */
export const SIGNAL_WAIT = { timeout: 10 * SECOND, interval: 20 } as const;

/** A session id no other test uses, so tests never see each other's data. */
export function uniqueId(label = "session"): string {
  return `${label}-${randomUUID()}`;
}

/**
 * A session record with a unique id, created now, last used now, due in an hour.
 * Times are real (`Date.now()`), never tiny absolutes: a backend may map `expiresAt` onto real
 * key expiry, so a record due at `1000` would vanish on insert. Tests move time forward by
 * passing later `now` values instead.
 */
export function record(overrides: Partial<SessionRecord> = {}): SessionRecord {
  const createdAt = overrides.createdAt ?? Date.now();
  return {
    id: uniqueId(),
    createdAt,
    lastAccessedAt: createdAt,
    expiresAt: createdAt + HOUR,
    ...overrides,
  };
}

/** Creates each record and checks that every create reported `"created"`. */
export async function createAll(
  store: SessionStore,
  records: readonly SessionRecord[],
): Promise<void> {
  const outcomes = await Promise.all(records.map((session) => store.create(session)));
  expect(outcomes).toEqual(records.map(() => "created"));
}

/** Every signal a subscriber received, in arrival order. */
export interface SignalRecorder {
  /** Ids from `expired` claims, one entry per delivery. */
  readonly expired: readonly string[];
  /** `ended` signals, one entry per delivery. */
  readonly ended: readonly { readonly id: string; readonly reason: EndReason }[];
  /** The reasons of every `ended` signal for `id`, in arrival order. */
  endedReasons(id: string): EndReason[];
  /** Stops the subscription. */
  unsubscribe(): void;
}

/** Subscribes to `store` and records every signal it delivers. */
export function collect(store: SessionStore): SignalRecorder {
  const expired: string[] = [];
  const ended: { id: string; reason: EndReason }[] = [];
  const unsubscribe = store.subscribe({
    expired: (id) => {
      expired.push(id);
    },
    ended: (id, reason) => {
      ended.push({ id, reason });
    },
  });
  return {
    expired,
    ended,
    endedReasons: (id) => ended.filter((signal) => signal.id === id).map((signal) => signal.reason),
    unsubscribe,
  };
}

/** Ids in a stable order, so two collections compare regardless of arrival or page order. */
export function sortedIds(ids: Iterable<string>): string[] {
  return [...ids].sort();
}

/** Drains `store.list(now)` into an array. */
export async function listAll(store: SessionStore, now: number): Promise<SessionRecord[]> {
  const sessions: SessionRecord[] = [];
  for await (const session of store.list(now)) sessions.push(session);
  return sessions;
}

/** The session record as the contract expects it after a touch at `now`. */
export function touched(
  session: SessionRecord,
  now: number,
  ttl: number,
  maxLifetime: number,
): SessionRecord {
  return {
    ...session,
    lastAccessedAt: now,
    expiresAt: Math.min(now + ttl, session.createdAt + maxLifetime),
  };
}

/**
 * Runs `action` and expects it to reject with code `STORE_CLOSED`. Compares the code, never the
 * message or class, so a store built on another copy of session-core passes too.
 */
export async function expectStoreClosed(action: () => Promise<unknown>): Promise<void> {
  const outcome = await action().then(
    (value: unknown) => ({ resolved: value }),
    (error: unknown) => ({ rejected: isSessionError(error) ? error.code : error }),
  );
  expect(outcome).toEqual({ rejected: "STORE_CLOSED" });
}
