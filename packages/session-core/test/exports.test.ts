import { expect, it } from "vitest";
import * as api from "../src/index.js";
import * as store from "../src/store.js";

it("exports what users need, and no plumbing", () => {
  expect(Object.keys(api).sort()).toEqual([
    "InvalidMetadataError",
    "InvalidSessionIdError",
    "SYSTEM_CLOCK",
    "SessionError",
    "SessionExistsError",
    "SessionLimitReachedError",
    "SessionManager",
    "StoreClosedError",
    "StoreConfigurationError",
    "StoreUnavailableError",
    "assertValidSessionId",
    "defaultSendLog",
    "generateSessionId",
    "isSessionError",
    "isValidSessionId",
    "silentSendLog",
  ]);
});

it("exports store and integration authors' helpers from ./store", () => {
  expect(Object.keys(store).sort()).toEqual([
    "MAX_TIMER_DELAY_MS",
    "describeError",
    "log",
    "ownerMatches",
    "parseMetadata",
    "runGuarded",
    "toSendLog",
    "unrefTimeout",
    "validateMetadata",
  ]);
});
