import type { SessionStore } from "@mcp-sessions/session-core";
import { afterEach, describe } from "vitest";
import { describeRelay, type SessionRelayPair } from "./contract/relay.js";

export type { SessionRelayPair } from "./contract/relay.js";

/**
 * Makes the relay under test with the store whose sessions it serves. Called once per test;
 * each pair shares nothing with any other (its own instance, or its own random key prefix).
 */
export type SessionRelayFactory = () => SessionRelayPair | Promise<SessionRelayPair>;

/** Per test: a relay over a network waits for its subscriptions. */
const TEST_TIMEOUT_MS = 30_000;

/**
 * Declares the `SessionRelay` contract suite for vitest, separate from the store's: a store
 * needs no relay, but a relay needs its store, because a session's log and stream holds end with
 * the session. Every relay, ours and third parties', runs it unchanged. Call it at the top level
 * of a test file.
 *
 * The suite calls `factory` inside each test and closes each pair's store after the test, which
 * must release the relay as well; the factory must not close anything itself.
 *
 * @example
 * // test/contract.test.ts
 * import { describeSessionRelay } from "@mcp-sessions/session-testing";
 * import { MemorySessionStore } from "../src/index.js";
 *
 * describeSessionRelay("memory", () => {
 *   const store = new MemorySessionStore();
 *   return { store, relay: store.relay };
 * });
 */
export function describeSessionRelay(name: string, factory: SessionRelayFactory): void {
  describe(`SessionRelay contract: ${name}`, {
    timeout: TEST_TIMEOUT_MS,
    concurrent: false,
  }, () => {
    const opened: SessionStore[] = [];
    const openPair = async (): Promise<SessionRelayPair> => {
      const pair = await factory();
      opened.push(pair.store);
      return pair;
    };

    afterEach(async () => {
      const results = await Promise.allSettled(opened.splice(0).map((store) => store.close()));
      for (const result of results) {
        if (result.status === "rejected") throw result.reason;
      }
    }, TEST_TIMEOUT_MS);

    describeRelay({ openPair });
  });
}
