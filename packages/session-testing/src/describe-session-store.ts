import type { SessionStore } from "@mcp-sessions/session-core";
import { afterEach, describe } from "vitest";
import { describeClose } from "./contract/close.js";
import { describeConcurrency } from "./contract/concurrency.js";
import { describeCreate } from "./contract/create.js";
import { describeDelete } from "./contract/delete.js";
import { describeExpiry } from "./contract/expiry.js";
import { describeIds } from "./contract/ids.js";
import { describeList } from "./contract/list.js";
import { describeLookup } from "./contract/lookup.js";
import { describeOwner } from "./contract/owner.js";
import { describeSubscription } from "./contract/subscription.js";

/**
 * Makes the store under test. Called once per test; each call returns a fresh store that shares
 * no sessions with any other (its own instance, or its own random key prefix on a shared server).
 */
export type SessionStoreFactory = () => SessionStore | Promise<SessionStore>;

/** Per test: long enough for the real-clock expiry test to wait out lazy backend expiry. */
const TEST_TIMEOUT_MS = 30_000;

/**
 * Declares the `SessionStore` contract suite for vitest: every store, ours and third parties',
 * runs it unchanged, with no opt-outs. It asks for sessions only, so a SQL or DynamoDB table can
 * pass it; messaging between instances is `describeSessionRelay`'s. Call it at the top level of a
 * test file.
 *
 * The suite calls `factory` inside each test and closes every store it made after the test, so
 * the factory must not close stores itself. Time is passed to the store as `now`; apart from one
 * test of real expiry, nothing waits on the clock, and signals are awaited with `expect.poll`.
 *
 * @example
 * // test/contract.test.ts
 * import { describeSessionStore } from "@mcp-sessions/session-testing";
 * import { MemorySessionStore } from "../src/index.js";
 *
 * describeSessionStore("memory", () => new MemorySessionStore());
 */
export function describeSessionStore(name: string, factory: SessionStoreFactory): void {
  // Sequential even when the project runs tests concurrently: afterEach closes the stores of
  // the test that just ended, which is only safe while one test runs at a time.
  describe(`SessionStore contract: ${name}`, {
    timeout: TEST_TIMEOUT_MS,
    concurrent: false,
  }, () => {
    const opened: SessionStore[] = [];
    const openStore = async (): Promise<SessionStore> => {
      const store = await factory();
      opened.push(store);
      return store;
    };

    afterEach(async () => {
      const results = await Promise.allSettled(opened.splice(0).map((store) => store.close()));
      for (const result of results) {
        if (result.status === "rejected") throw result.reason;
      }
    }, TEST_TIMEOUT_MS);

    const context = { openStore };
    describeCreate(context);
    describeLookup(context);
    describeOwner(context);
    describeIds(context);
    describeDelete(context);
    describeList(context);
    describeExpiry(context);
    describeConcurrency(context);
    describeSubscription(context);
    describeClose(context);
  });
}
