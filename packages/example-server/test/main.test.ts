import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { within } from "@mcp-sessions/session-testing/wait";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { SHUTDOWN_TIMEOUT_MS } from "../src/index.js";
import { EVENT_BOUND_MS } from "./support/event-bound.js";
import { CONFIG_VARIABLES, LISTENING, MAIN } from "./support/example-server-process.js";
import { postHead, rawConnection } from "./support/raw-http.js";

/**
 * `SHUTDOWN_TIMEOUT_MS` of src/run-until-signal.ts: a shutdown still running then ends in exit
 * 1, so an exit 0 means the shutdown finished before it, and the process always exits by then.
 */
const SERVER_SHUTDOWN_DEADLINE_MS = SHUTDOWN_TIMEOUT_MS;
/**
 * How long after the signal the test waits for the exit: the server's own deadline, then a
 * loaded machine's margin for the process to run it and die. Only a server that ignores its
 * deadline takes longer.
 */
const EXIT_BOUND_MS = SERVER_SHUTDOWN_DEADLINE_MS + EVENT_BOUND_MS;
/** Timeout of a test here: its start and requests, then up to {@link EXIT_BOUND_MS} for the exit. */
const EXIT_TEST_TIMEOUT_MS = EXIT_BOUND_MS + 30_000;

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly stderr: () => string;
}

const children: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(MAIN)) {
    throw new Error(`${MAIN} is missing; run \`pnpm --filter example-server build\` first`);
  }
});

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});

function run(env: Record<string, string>): Running {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CONFIG_VARIABLES) delete childEnv[name];
  const child = spawn(process.execPath, [MAIN], {
    env: { ...childEnv, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, stderr: () => stderr };
}

/** Resolves with the MCP URL from the "listening" line; rejects if the process exits first. */
function listeningUrl(running: Running): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: running.child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      const match = LISTENING.exec(line);
      if (match?.[1] && match[3] === "memory") resolve(match[1]);
    });
    void running.exited.then(({ code, signal }) =>
      reject(
        new Error(`exited (${code ?? signal}) before listening; stderr:\n${running.stderr()}`),
      ),
    );
  });
}

/** The process's exit, once it came: within {@link EXIT_BOUND_MS} of the signal. */
function exitOf(running: Running): Running["exited"] {
  return within(running.exited, {
    waitingFor: "the exit after the signal",
    timeoutMs: EXIT_BOUND_MS,
  });
}

describe("node dist/main.js", { timeout: EXIT_TEST_TIMEOUT_MS }, () => {
  it("listens, answers /healthz, and exits 0 on SIGINT with a client connected", async () => {
    const running = run({ PORT: "0", HOST: "127.0.0.1" });
    const url = await listeningUrl(running);

    const health = await fetch(new URL("/healthz", url));
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", store: "memory", activeSessions: 0 });

    // A live session with its GET stream open: shutdown must end it, not wait on it.
    const client = new Client({ name: "main-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    const sum = await client.callTool({ name: "add", arguments: { a: 1, b: 2 } });
    expect(sum.content).toEqual([{ type: "text", text: "3" }]);

    running.child.kill("SIGINT");
    expect(await exitOf(running), running.stderr()).toEqual({ code: 0, signal: null });
    expect(running.stderr()).toContain("SIGINT received, shutting down");
    await client.close();
  });

  it("exits 0 on SIGINT without waiting for a client that stalls mid-body", async () => {
    const running = run({ PORT: "0", HOST: "127.0.0.1" });
    const port = Number(new URL(await listeningUrl(running)).port);
    const stalled = await rawConnection(port);
    stalled.write(postHead(port, 1_000, "Expect: 100-continue\r\n"));
    // Node answers "100 Continue" as it hands the request to the handler, which then waits for
    // the body: the request is in flight.
    await within(stalled.received(/100 Continue/), {
      waitingFor: "100 Continue",
      timeoutMs: EVENT_BOUND_MS,
    });
    stalled.write('{"jsonrpc":');

    running.child.kill("SIGINT");
    // Exit 0 means the shutdown finished within its 10 s deadline, well under REQUEST_TIMEOUT_MS
    // (30 s), which would end the stalled request by itself: the server cut it.
    expect(await exitOf(running), running.stderr()).toEqual({ code: 0, signal: null });
    stalled.destroy();
  });

  it("exits 0 on SIGTERM", async () => {
    const running = run({ PORT: "0", HOST: "127.0.0.1" });
    await listeningUrl(running);
    running.child.kill("SIGTERM");
    expect(await exitOf(running), running.stderr()).toEqual({ code: 0, signal: null });
  });

  it("fails at start with exit 1 and names a bad variable", async () => {
    const running = run({ PORT: "0", HOST: "127.0.0.1", SESSION_TTL_MS: "soon" });
    expect(await running.exited).toEqual({ code: 1, signal: null });
    expect(running.stderr()).toBe(
      `example-server: Expected \`SESSION_TTL_MS\` to be an integer from 1 to ${Number.MAX_SAFE_INTEGER}, got \`soon\`\n`,
    );
  });
});
