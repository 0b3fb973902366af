/**
 * The load generator, run as its own process by `load.ts`:
 *
 *   node dist/mcp/load-client.js <url> <sessions> <durationMs>
 *
 * Opens `sessions` sessions with the SDK's `Client` and `StreamableHTTPClientTransport`, then
 * each calls the `add` tool in a closed loop (one call in flight per session) until
 * `durationMs` has passed, and checks every sum. Prints two lines of JSON to stdout:
 * `{ "ready": true }` when every session is open and the loop starts, and
 * `{ calls, seconds, errors, firstError? }` when it has ended. Then it ends every session with
 * DELETE and exits.
 * A client that cannot connect or close exits with code 1 and says why on stderr.
 */
import { performance } from "node:perf_hooks";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { LoadClientResult } from "./load.js";

/** Never outlive the bench by long, whatever happens to the servers. */
const HARD_LIMIT_AFTER_DURATION_MS = 25_000;

interface Session {
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
}

function parseArguments(argv: readonly string[]): {
  url: URL;
  sessions: number;
  durationMs: number;
} {
  const [url, sessions, durationMs] = argv;
  const count = Number(sessions);
  const duration = Number(durationMs);
  if (url === undefined || !URL.canParse(url) || !Number.isSafeInteger(count) || count < 1) {
    throw new TypeError("usage: load-client.js <url> <sessions ≥ 1> <durationMs > 0>");
  }
  if (!Number.isFinite(duration) || duration <= 0) {
    throw new TypeError(`Expected \`durationMs\` to be a positive number, got \`${durationMs}\``);
  }
  return { url: new URL(url), sessions: count, durationMs: duration };
}

async function open(url: URL): Promise<Session> {
  const transport = new StreamableHTTPClientTransport(url);
  const client = new Client({ name: "bench-load-client", version: "0.0.0" });
  await client.connect(transport);
  return { client, transport };
}

async function main(): Promise<void> {
  const { url, sessions, durationMs } = parseArguments(process.argv.slice(2));
  setTimeout(() => {
    process.stderr.write("load client: hard time limit reached\n");
    process.exit(2);
  }, durationMs + HARD_LIMIT_AFTER_DURATION_MS).unref();

  const opened = await Promise.all(Array.from({ length: sessions }, () => open(url)));
  let calls = 0;
  let errors = 0;
  let firstError: string | undefined;
  // Tells the bench the loop starts now, so it can read its own CPU time around the loop alone.
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const started = performance.now();
  const end = started + durationMs;
  const loop = async ({ client }: Session, worker: number) => {
    for (let i = 0; performance.now() < end; i++) {
      const a = worker;
      const b = i;
      try {
        const result = await client.callTool({ name: "add", arguments: { a, b } });
        const [content] = result.content as Array<{ type: string; text?: string }>;
        if (result.isError === true || content?.text !== String(a + b)) {
          throw new Error(`add(${a}, ${b}) returned ${JSON.stringify(result)}`);
        }
        calls++;
      } catch (error) {
        errors++;
        firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  await Promise.all(opened.map(loop));
  const seconds = (performance.now() - started) / 1000;

  const result: LoadClientResult =
    firstError === undefined ? { calls, seconds, errors } : { calls, seconds, errors, firstError };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  // Untimed: DELETE ends each session on the server, then the client drops its GET stream.
  await Promise.all(
    opened.map(async ({ client, transport }) => {
      await transport.terminateSession();
      await client.close();
    }),
  );
}

try {
  await main();
} catch (error) {
  process.stderr.write(
    `load client failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
}
