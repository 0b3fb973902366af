import { within } from "@mcp-sessions/session-testing/wait";
import { describe, expect, it } from "vitest";
import { EVENT_BOUND_MS } from "./support/event-bound.js";
import { connectForNotifications, streamsOf } from "./support/mcp-client.js";
import { postHead, rawConnection } from "./support/raw-http.js";
import { useExampleServer } from "./support/use-example-server.js";

/** `REQUEST_TIMEOUT_MS` of the server under test. */
const TIMEOUT_MS = 2_000;
/**
 * How long a stalled request may stay open: the timeout, then up to a second until Node's next
 * check (the server checks every second), and a loaded machine's margin.
 */
const CUT_BOUND_MS = TIMEOUT_MS + 1_000 + EVENT_BOUND_MS;

const { cleanups, start } = useExampleServer();

describe("REQUEST_TIMEOUT_MS", () => {
  it("answers 408 to a request stalled mid-body or mid-headers, and leaves SSE streams open", async () => {
    const server = await start({ REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) });
    const { client, fetch, notified } = await connectForNotifications(server.url);
    cleanups.push(() => client.close());

    const body = await rawConnection(server.port);
    cleanups.push(async () => body.destroy());
    body.write(`${postHead(server.port, 1_000)}{"jsonrpc":`);
    const headers = await rawConnection(server.port);
    cleanups.push(async () => headers.destroy());
    headers.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n`);
    for (const [what, stalled] of [
      ["stalled body", body],
      ["stalled headers", headers],
    ] as const) {
      const reply = await within(stalled.closed, {
        waitingFor: `408 to the ${what}`,
        timeoutMs: CUT_BOUND_MS,
      });
      expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    }

    // The GET stream opened before either request, so it has been open longer than the timeout:
    // it still delivers, and the client never had to open another.
    await client.callTool({
      name: "notify_later",
      arguments: { message: "Still streaming", delayMs: 0 },
    });
    expect((await notified).data).toBe("Still streaming");
    expect(streamsOf(fetch)).toHaveLength(1);
    expect(streamsOf(fetch)[0]?.body).toContain("Still streaming");
  });
});
