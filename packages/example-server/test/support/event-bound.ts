/**
 * How long a test waits for something that takes milliseconds on an idle machine (a stream
 * opening, a log line, a message across the fleet) before it fails: generous for a busy CI
 * machine, and well inside every test's timeout. A bound on a wait, never a sleep: pass it to
 * `within` or `pollUntil` (`@mcp-sessions/session-testing/wait`) or `expect.poll`.
 */
export const EVENT_BOUND_MS = 15_000;
