/**
 * Adoption latency: what the first request of a session costs on an instance that did not create
 * it. Two instances share a spawned `redis-server`, each with its own handler, manager, store and
 * client. Per session, one at a time: `initialize` and `notifications/initialized` go to A, then
 * the first `tools/call` goes to B and is timed (B touches the session in the store, builds a
 * fresh transport and server, and replays the stored `initialize`). The session's second
 * `tools/call` on B, already adopted, is the baseline. Times are taken in this process around
 * `fetch`, until the whole response body (one SSE event) has arrived.
 */
import { performance } from "node:perf_hooks";
import { createMcpSessionHandler, type McpSessionHandler } from "@mcp-sessions/session-mcp";
import {
  type BenchmarkGroup,
  collectGarbage,
  compare,
  percentileOfSorted,
  progress,
  QUICK,
  type RepeatOptions,
  type Row,
  repeat,
} from "../harness.js";
import { INITIALIZE_PARAMS, withRedis } from "../redis/fixtures.js";
import { buildAddServer, closeAll, listen } from "./fixtures.js";

const SESSIONS = QUICK ? 30 : 200;
const REPEAT: RepeatOptions = QUICK ? { warmup: 1, runs: 1 } : { warmup: 1, runs: 3 };
const PERCENTILES = [50, 99] as const;
/** performance.now() is good to about a microsecond. */
const RESOLUTION_MS = 0.001;

const POST_HEADERS = Object.freeze({
  "content-type": "application/json",
  accept: "application/json, text/event-stream",
});

/** One instance of the fleet, and how many servers its `createServer` has built. */
interface Instance {
  readonly url: URL;
  readonly built: { count: number };
}

interface Percentiles {
  readonly adoption: Record<(typeof PERCENTILES)[number], number>;
  readonly adopted: Record<(typeof PERCENTILES)[number], number>;
}

let nextRequestId = 1;

function post(url: URL, headers: Record<string, string>, message: object): Promise<Response> {
  return fetch(url, { method: "POST", headers, body: JSON.stringify(message) });
}

/** `initialize` and `notifications/initialized` on `url`; returns the session's POST headers. */
async function initialize(url: URL): Promise<Record<string, string>> {
  const response = await post(url, POST_HEADERS, {
    jsonrpc: "2.0",
    id: nextRequestId++,
    method: "initialize",
    params: INITIALIZE_PARAMS,
  });
  const body = await response.text();
  const id = response.headers.get("mcp-session-id");
  if (response.status !== 200 || id === null) {
    throw new Error(`initialize got HTTP ${response.status}: ${body}`);
  }
  const headers = {
    ...POST_HEADERS,
    "mcp-session-id": id,
    "mcp-protocol-version": String(INITIALIZE_PARAMS.protocolVersion),
  };
  const initialized = await post(url, headers, {
    jsonrpc: "2.0",
    method: "notifications/initialized",
  });
  await initialized.arrayBuffer();
  if (initialized.status !== 202) {
    throw new Error(`notifications/initialized got HTTP ${initialized.status}`);
  }
  return headers;
}

/** Times one `tools/call add` on `url` to the end of its response, then checks the sum. */
async function timedAdd(url: URL, headers: Record<string, string>, a: number): Promise<number> {
  const message = {
    jsonrpc: "2.0",
    id: nextRequestId++,
    method: "tools/call",
    params: { name: "add", arguments: { a, b: 1 } },
  };
  const started = performance.now();
  const response = await post(url, headers, message);
  const body = await response.text();
  const elapsed = performance.now() - started;
  if (response.status !== 200 || !body.includes(`"text":"${a + 1}"`)) {
    throw new Error(`tools/call add got HTTP ${response.status}: ${body}`);
  }
  return elapsed;
}

async function measureRun(a: Instance, b: Instance): Promise<Percentiles> {
  collectGarbage();
  const adoption = new Float64Array(SESSIONS);
  const adopted = new Float64Array(SESSIONS);
  const sessions: Record<string, string>[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const headers = await initialize(a.url);
    sessions.push(headers);
    const built = b.built.count;
    adoption[i] = await timedAdd(b.url, headers, i);
    adopted[i] = await timedAdd(b.url, headers, i);
    // Exactly one server built on B, by the first call: the second found it live.
    if (b.built.count !== built + 1) {
      throw new Error(`B built ${b.built.count - built} servers for one session, expected 1`);
    }
  }
  // Untimed: end every session, so each run starts from an empty fleet.
  for (const headers of sessions) {
    const response = await fetch(a.url, { method: "DELETE", headers });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`DELETE got HTTP ${response.status}`);
  }
  adoption.sort();
  adopted.sort();
  const at = (sorted: Float64Array) => ({
    50: percentileOfSorted(sorted, 50),
    99: percentileOfSorted(sorted, 99),
  });
  return { adoption: at(adoption), adopted: at(adopted) };
}

export const mcpAdoption: BenchmarkGroup = {
  name: "mcp/adoption",
  run: () =>
    withRedis(async (redis) => {
      const closers: (() => Promise<void>)[] = [];
      try {
        const instances: Instance[] = [];
        for (let i = 0; i < 2; i++) {
          const { manager, store } = await redis.manager(redis.connect(), { enabled: true });
          const built = { count: 0 };
          const handler: McpSessionHandler = createMcpSessionHandler({
            sessions: manager,
            relay: store.relay,
            createServer: () => {
              built.count++;
              return buildAddServer();
            },
          });
          closers.push(() => handler.close());
          const http = await listen((req, res) => void handler(req, res));
          closers.push(() => http.close());
          instances.push({ url: http.url, built });
        }
        const [a, b] = instances as [Instance, Instance];
        const runs = await repeat(`adoption of ${SESSIONS} sessions`, REPEAT, () =>
          measureRun(a, b),
        );
        progress(
          `    adoption p50/p99 per run: ${runs.map((r) => `${r.adoption[50].toFixed(2)}/${r.adoption[99].toFixed(2)} ms`).join(", ")}`,
        );
        return PERCENTILES.map(
          (p): Row =>
            compare(
              {
                group: "mcp/adoption",
                name: `first tools/call on the other instance (adoption), p${p} @ ${SESSIONS} sessions, Redis`,
                unit: "ms",
                better: "lower",
                baselineLabel: `the session's second tools/call there (adopted), p${p}`,
                resolution: RESOLUTION_MS,
              },
              runs.map((run) => run.adoption[p]),
              runs.map((run) => run.adopted[p]),
            ),
        );
      } finally {
        await closeAll(closers);
      }
    }),
};
