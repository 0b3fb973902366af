import { randomUUID } from "node:crypto";
import { existsSync, type FSWatcher, mkdtempSync, readdirSync, rmSync, watch } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedis } from "@mcp-sessions/session-testing/redis";
import { within } from "@mcp-sessions/session-testing/wait";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, describe, expect, it } from "vitest";
import { health } from "./support/mcp-http.js";
import { type PnpmStart, pnpmStart, REPOSITORY_ROOT } from "./support/pnpm-start.js";

/**
 * How long `pnpm start` may take to print "listening": on a cold turbo cache it builds six
 * packages first, here two starts at once on a loaded machine.
 */
const START_BOUND_MS = 240_000;
/** How long a Ctrl-C may take to end `pnpm start`: closing the sessions, the store, pnpm. */
const STOP_BOUND_MS = 20_000;
/** The packages `pnpm start` builds (`--filter=example-server...`). */
const BUILT = [
  "session-core",
  "session-memory",
  "session-redis",
  "session-mcp",
  "session-testing",
  "example-server",
];
const CLEAN_EXIT = { code: 0, signal: null };

const cleanups: Array<() => unknown> = [];
const started: PnpmStart[] = [];

afterEach(async () => {
  for (const start of started.splice(0)) start.killGroup();
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function start(env: Record<string, string>): PnpmStart {
  const running = pnpmStart({ PORT: "0", HOST: "127.0.0.1", ...env });
  started.push(running);
  return running;
}

describe("pnpm start, as the README runs it", () => {
  it("exits 0 on Ctrl-C with REDIS_URL set, a client connected", async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const running = start({
      REDIS_URL: redis.url,
      REDIS_PREFIX: `start-test-${randomUUID().slice(0, 8)}`,
    });
    const url = await within(running.listening(), {
      waitingFor: "pnpm start listening",
      timeoutMs: START_BOUND_MS,
    });
    const client = new Client({ name: "start-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    cleanups.push(() => client.close());

    // Ctrl-C: the terminal signals the whole foreground process group, pnpm and node alike.
    running.signalGroup("SIGINT");
    expect(
      await within(running.exited, { waitingFor: "pnpm start exiting", timeoutMs: STOP_BOUND_MS }),
    ).toEqual(CLEAN_EXIT);
    expect(running.stderr().match(/SIGINT received, shutting down/g)).toHaveLength(1);
    expect(running.stderr()).not.toMatch(/exiting without waiting|ELIFECYCLE/);
  });

  it("starts two instances at once on a cold turbo cache, neither deleting nor rewriting what the other runs", async () => {
    const cache = mkdtempSync(join(tmpdir(), "turbo-cache-"));
    cleanups.push(() => rmSync(cache, { recursive: true, force: true }));
    const outputs = watchBuildOutputs();
    cleanups.push(() => outputs.close());

    const env = { TURBO_CACHE_DIR: cache };
    const a = start(env);
    // Turbo names its tasks before it runs the first: B starts while A builds.
    await within(a.line(/Running build in \d+ packages/), {
      waitingFor: "A's build starting",
      timeoutMs: START_BOUND_MS,
    });
    const b = start(env);
    const urls = await within(Promise.all([a.listening(), b.listening()]), {
      waitingFor: "both instances listening",
      timeoutMs: START_BOUND_MS,
    });
    for (const url of urls) expect(await health(url)).toMatchObject({ status: 200 });
    outputs.close();
    expect(outputs.removed()).toEqual([]);
    expect(outputs.rewritten()).toEqual([]);

    a.signalGroup("SIGINT");
    b.signalGroup("SIGINT");
    expect(
      await within(Promise.all([a.exited, b.exited]), {
        waitingFor: "both exiting",
        timeoutMs: STOP_BOUND_MS,
      }),
    ).toEqual([CLEAN_EXIT, CLEAN_EXIT]);
  });
});

/** What the builds did to the files a running or starting instance reads. */
interface BuildOutputs {
  /** Packages whose `dist` directory was removed or made anew. */
  removed(): string[];
  /** Files written in place, where a reader could find them half-written. */
  rewritten(): string[];
  close(): void;
}

/**
 * Watches every built package's directory (for `dist` itself going) and every directory of its
 * `dist` (for files written in place: inotify reports an in-place write as "change", a file
 * replaced by rename(2) as "rename"), and session-redis's generated Lua module.
 */
function watchBuildOutputs(): BuildOutputs {
  const removed: string[] = [];
  const rewritten: string[] = [];
  const watchers: FSWatcher[] = [];
  for (const name of BUILT) {
    const dir = join(REPOSITORY_ROOT, "packages", name);
    if (!existsSync(join(dir, "dist"))) {
      throw new Error(
        `${dir}/dist is missing; run \`pnpm --filter example-server... build\` first`,
      );
    }
    watchers.push(
      watch(dir, (_, file) => {
        if (file === "dist") removed.push(name);
      }),
    );
    for (const sub of directoriesUnder(join(dir, "dist"))) {
      watchers.push(
        watch(sub, (event, file) => {
          if (event === "change") rewritten.push(join(sub, file ?? "?"));
        }),
      );
    }
  }
  const lua = join(REPOSITORY_ROOT, "packages/session-redis/src/lua");
  watchers.push(
    watch(lua, (event, file) => {
      if (event === "change" && file === "scripts.generated.ts") rewritten.push(join(lua, file));
    }),
  );
  return {
    removed: () => [...removed],
    rewritten: () => [...rewritten],
    close: () => {
      for (const watcher of watchers) watcher.close();
    },
  };
}

function directoriesUnder(dir: string): string[] {
  return [
    dir,
    ...readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .flatMap((entry) => directoriesUnder(join(dir, entry.name))),
  ];
}
