/**
 * Elicitation round trips across a fleet: the latency of a `tools/call` whose tool sends
 * `elicitation/create` on the call's own stream, waits for the client's reply, and returns the
 * answer. The client is the SDK's `Client` in this process, over real HTTP on 127.0.0.1, one call
 * at a time, answering each elicitation at once. Three setups:
 *
 * - one instance on a memory store;
 * - one instance on Redis (the reply lands where the tool waits);
 * - two instances on Redis, each with its own store object and client over one prefix, as two
 *   processes would have, and a client `fetch` that alternates every request between them, aligned
 *   so that the `tools/call` goes to A and the reply to B: B relays it to A through Redis.
 *
 * Each setup also times a plain `tools/call` (`add`) on the same session, the cost of the call
 * without the elicitation. Every answer and every route is checked, or the group fails.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";
import { SessionManager, type SessionRelay } from "@mcp-sessions/session-core";
import { createMcpSessionHandler, type McpSessionHandler } from "@mcp-sessions/session-mcp";
import { MemorySessionStore } from "@mcp-sessions/session-memory";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { FetchLike } from "@modelcontextprotocol/sdk/shared/transport.js";
import { ElicitRequestSchema, ElicitResultSchema } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
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
import { withRedis } from "../redis/fixtures.js";
import { buildAddServer, closeAll, listen } from "./fixtures.js";

const GROUP = "mcp/fleet-messaging";
/** Calls of each kind per setup and run, one after another. */
const CALLS = QUICK ? 100 : 400;
const REPEAT: RepeatOptions = QUICK ? { warmup: 1, runs: 1 } : { warmup: 1, runs: 5 };
const PERCENTILES = [50, 99] as const;
/** performance.now() is good to about a microsecond. */
const RESOLUTION_MS = 0.001;
/** How long a client may take to open its GET stream after `connect`. */
const STREAM_OPEN_TIMEOUT_MS = 5_000;

const SETUPS = ["memory", "redis", "fleet"] as const;
type Setup = (typeof SETUPS)[number];
const KINDS = ["elicitation", "plain"] as const;
type Kind = (typeof KINDS)[number];
type Percentile = (typeof PERCENTILES)[number];
type Run = Record<Setup, Record<Kind, Record<Percentile, number>>>;

const SETUP_LABEL: Record<Setup, string> = {
  memory: "1 instance, memory store",
  redis: "1 instance, Redis",
  fleet: "reply on the other instance (2 on Redis, alternating)",
};

/**
 * The bench's `add` server plus `confirm`, which asks the client through `elicitation/create`
 * on the call's own stream (`extra.sendRequest`) and returns the answer.
 */
function buildConfirmServer(): McpServer {
  const server = buildAddServer();
  server.registerTool(
    "confirm",
    { description: "Asks the client, returns its answer.", inputSchema: { question: z.string() } },
    async ({ question }, extra) => {
      const result = await extra.sendRequest(
        {
          method: "elicitation/create",
          params: {
            mode: "form",
            message: question,
            requestedSchema: {
              type: "object",
              properties: { answer: { type: "string" } },
              required: ["answer"],
            },
          },
        },
        ElicitResultSchema,
      );
      return { content: [{ type: "text", text: String(result.content?.answer) }] };
    },
  );
  return server;
}

/** One request the client sent: where to, and what. */
interface SentRequest {
  readonly method: string;
  /** The JSON-RPC method of a POST, or "response" for the client's reply to a server request. */
  readonly rpc: string | undefined;
  /** Index of the instance it went to. */
  readonly target: number;
  status?: number;
}

/** A client `fetch` that sends each request to the next instance in turn: the load balancer. */
interface RoundRobinFetch {
  readonly fetch: FetchLike;
  readonly sent: SentRequest[];
  /** The next request goes to instance `index`. */
  alignTo(index: number): void;
}

function roundRobinFetch(urls: readonly URL[]): RoundRobinFetch {
  const sent: SentRequest[] = [];
  let next = 0;
  return {
    sent,
    alignTo(index) {
      next = index;
    },
    async fetch(_url, init) {
      const target = next++ % urls.length;
      const body = init?.body;
      const rpc =
        typeof body === "string"
          ? ((JSON.parse(body) as { method?: string }).method ?? "response")
          : undefined;
      const entry: SentRequest = { method: init?.method ?? "GET", rpc, target };
      sent.push(entry);
      const response = await fetch(urls[target] as URL, init);
      entry.status = response.status;
      return response;
    },
  };
}

/** The SDK's client on one setup, answering every elicitation at once with its own question. */
interface Connected {
  readonly setup: Setup;
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
  readonly router: RoundRobinFetch;
  readonly instances: number;
}

async function connect(setup: Setup, urls: readonly URL[]): Promise<Connected> {
  const router = roundRobinFetch(urls);
  const transport = new StreamableHTTPClientTransport(urls[0] as URL, { fetch: router.fetch });
  const client = new Client(
    { name: "bench-fleet-messaging", version: "0.0.0" },
    { capabilities: { elicitation: { form: {} } } },
  );
  client.setRequestHandler(ElicitRequestSchema, async (request) => ({
    action: "accept",
    content: { answer: request.params.message },
  }));
  await client.connect(transport);
  // The SDK opens its GET stream after `notifications/initialized`; wait for it, so that no
  // request of the timed calls is out of turn.
  const deadline = performance.now() + STREAM_OPEN_TIMEOUT_MS;
  const stream = () => router.sent.find((request) => request.method === "GET");
  while (stream()?.status === undefined) {
    if (performance.now() > deadline) throw new Error(`${setup}: the GET stream did not open`);
    await delay(5);
  }
  if (stream()?.status !== 200) throw new Error(`${setup}: GET got HTTP ${stream()?.status}`);
  return { setup, client, transport, router, instances: urls.length };
}

function textOf(result: unknown): string | undefined {
  const content = (result as { content?: Array<{ text?: string }> }).content;
  return content?.[0]?.text;
}

/**
 * Times `CALLS` calls of one kind, one after another, each to the end of its result, and checks
 * every answer and route. Returns the calls' p50 and p99 in ms.
 */
async function timeCalls(connected: Connected, kind: Kind): Promise<Record<Percentile, number>> {
  const { setup, client, router, instances } = connected;
  // The tools/call of every elicitation goes to instance 0, its reply to the next one.
  router.alignTo(0);
  router.sent.length = 0;
  const times = new Float64Array(CALLS);
  for (let i = 0; i < CALLS; i++) {
    const first = router.sent.length;
    const started = performance.now();
    const result =
      kind === "elicitation"
        ? await client.callTool({ name: "confirm", arguments: { question: `q${i}` } })
        : await client.callTool({ name: "add", arguments: { a: i, b: 1 } });
    times[i] = performance.now() - started;
    const expected = kind === "elicitation" ? `q${i}` : String(i + 1);
    if (result.isError === true || textOf(result) !== expected) {
      throw new Error(`${setup} ${kind}: call ${i} returned ${JSON.stringify(result)}`);
    }
    const sent = router.sent.slice(first);
    const route = sent.map((request) => `${request.rpc}→${request.target}`).join(", ");
    const expectedRoute =
      kind === "elicitation"
        ? `tools/call→0, response→${1 % instances}`
        : `tools/call→${first % instances}`;
    if (route !== expectedRoute) {
      throw new Error(`${setup} ${kind}: call ${i} went ${route}, expected ${expectedRoute}`);
    }
  }
  const failed = router.sent.find(
    (request) => request.status !== undefined && request.status !== 200 && request.status !== 202,
  );
  if (failed !== undefined) {
    throw new Error(`${setup} ${kind}: a ${failed.rpc} got HTTP ${failed.status}`);
  }
  times.sort();
  return { 50: percentileOfSorted(times, 50), 99: percentileOfSorted(times, 99) };
}

async function measureRun(clients: Record<Setup, Connected>): Promise<Run> {
  collectGarbage();
  const run = {} as Run;
  for (const setup of SETUPS) {
    run[setup] = {
      elicitation: await timeCalls(clients[setup], "elicitation"),
      plain: await timeCalls(clients[setup], "plain"),
    };
  }
  progress(
    `    p50/p99 ms: ${SETUPS.map((setup) => `${setup} elicitation ${run[setup].elicitation[50].toFixed(2)}/${run[setup].elicitation[99].toFixed(2)}, plain ${run[setup].plain[50].toFixed(2)}/${run[setup].plain[99].toFixed(2)}`).join("; ")}`,
  );
  return run;
}

export const mcpFleetMessaging: BenchmarkGroup = {
  name: GROUP,
  run: () =>
    withRedis(async (redis) => {
      const closers: (() => Promise<void>)[] = [];
      const serve = async (sessions: SessionManager, relay: SessionRelay): Promise<URL> => {
        const handler: McpSessionHandler = createMcpSessionHandler({
          sessions,
          relay,
          createServer: buildConfirmServer,
        });
        closers.push(() => handler.close());
        const http = await listen((req, res) => void handler(req, res));
        closers.push(() => http.close());
        return http.url;
      };
      try {
        // Manager defaults (sweeper on, 30-minute TTL), as a server would run.
        const memoryStore = new MemorySessionStore();
        closers.push(() => memoryStore.close());
        const memory = new SessionManager({ store: memoryStore });
        closers.push(() => memory.close());
        const memoryUrl = await serve(memory, memoryStore.relay);
        // withRedis closes these managers, stores and clients after the handlers are closed.
        const single = await redis.manager(redis.connect(), { enabled: true });
        const singleUrl = await serve(single.manager, single.store.relay);
        const fleetUrls: URL[] = [];
        for (let i = 0; i < 2; i++) {
          const { manager, store } = await redis.manager(redis.connect(), { enabled: true });
          fleetUrls.push(await serve(manager, store.relay));
        }

        const open = async (setup: Setup, urls: readonly URL[]) => {
          const connected = await connect(setup, urls);
          closers.push(() => connected.client.close());
          return connected;
        };
        const clients: Record<Setup, Connected> = {
          memory: await open("memory", [memoryUrl]),
          redis: await open("redis", [singleUrl]),
          fleet: await open("fleet", fleetUrls),
        };
        const runs = await repeat(
          `${CALLS} elicitations and ${CALLS} plain calls per setup`,
          REPEAT,
          () => measureRun(clients),
        );
        // Untimed: DELETE ends each session; then no session may be left behind.
        for (const { transport } of Object.values(clients)) await transport.terminateSession();
        const left = [
          await memory.getActiveSessionCount(),
          await single.manager.getActiveSessionCount(),
        ];
        if (left.some((count) => count !== 0)) {
          throw new Error(`sessions left after DELETE: memory ${left[0]}, Redis ${left[1]}`);
        }
        return rows(runs);
      } finally {
        await closeAll(closers);
      }
    }),
};

function rows(runs: readonly Run[]): Row[] {
  const samples = (setup: Setup, kind: Kind, p: Percentile) =>
    runs.map((run) => run[setup][kind][p]);
  const elicitation = (setup: Setup) =>
    `elicitation round trip (tools/call with elicitation/create), ${SETUP_LABEL[setup]}`;
  const row = (
    p: Percentile,
    name: string,
    ours: readonly number[],
    baselineLabel: string,
    baseline: readonly number[],
  ): Row =>
    compare(
      {
        group: GROUP,
        name: `${name}, p${p} @ ${CALLS} calls`,
        unit: "ms",
        better: "lower",
        baselineLabel,
        resolution: RESOLUTION_MS,
      },
      ours,
      baseline,
    );
  const result: Row[] = [];
  for (const p of PERCENTILES) {
    for (const setup of SETUPS) {
      result.push(
        row(
          p,
          elicitation(setup),
          samples(setup, "elicitation", p),
          `plain tools/call (add) on the same setup, p${p}`,
          samples(setup, "plain", p),
        ),
      );
    }
    for (const baseline of ["redis", "memory"] as const) {
      result.push(
        row(
          p,
          elicitation("fleet"),
          samples("fleet", "elicitation", p),
          `the same elicitation, ${SETUP_LABEL[baseline]}, p${p}`,
          samples(baseline, "elicitation", p),
        ),
      );
    }
  }
  return result;
}
