import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type SpawnedRedis, spawnRedisServer } from "@mcp-sessions/session-testing/redis";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createConsumerApp,
  listTarball,
  MODULE_RESOLUTIONS,
  PUBLISHED_DIRS,
  packAll,
  README_EXAMPLES,
  readPackagesFile,
  type Tarball,
  typecheck,
} from "./support/consumer-app.js";
import { run, userEnv } from "./support/run.js";

const BIN = new URL("../node_modules/.bin/", import.meta.url);
/** Anything else in a tarball is a leak: sources, tests, maps, configs. */
const SHIPPED = /^(dist\/.+|README\.md|LICENSE|CHANGELOG\.md|package\.json)$/;
const DEPENDENCY_FIELDS = [
  "dependencies",
  "peerDependencies",
  "optionalDependencies",
  "devDependencies",
] as const;

let packDir: string;
let tarballs: Tarball[];
let app: string;

beforeAll(async () => {
  packDir = await mkdtemp(join(tmpdir(), "mcp-sessions-pack-"));
  tarballs = await packAll(packDir);
  app = await createConsumerApp(tarballs);
});

afterAll(async () => {
  await Promise.all([packDir, app].map((dir) => dir && rm(dir, { recursive: true, force: true })));
});

function tarball(dir: string): Tarball {
  const found = tarballs.find((candidate) => candidate.dir === dir);
  if (found === undefined) throw new Error(`no tarball for ${dir}`);
  return found;
}

describe.each(PUBLISHED_DIRS)("%s tarball", (dir) => {
  it("ships only dist, README.md, LICENSE, CHANGELOG.md and package.json", async () => {
    const files = await listTarball(tarball(dir).path);
    expect(files.filter((file) => !SHIPPED.test(file))).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(["package.json", "README.md", "LICENSE"]));
    expect(files.some((file) => file.startsWith("dist/"))).toBe(true);
  });

  it("has its workspace ranges rewritten to versions, and the release metadata set", () => {
    const { manifest } = tarball(dir);
    for (const field of DEPENDENCY_FIELDS) {
      const ranges = Object.values((manifest[field] ?? {}) as Record<string, string>);
      expect(ranges.filter((range) => range.startsWith("workspace:"))).toEqual([]);
    }
    expect(manifest).toMatchObject({
      license: "MIT",
      description: expect.any(String),
      keywords: expect.arrayContaining(["mcp"]),
      repository: { type: "git", url: expect.any(String), directory: `packages/${dir}` },
    });
  });

  it("passes publint", async () => {
    await run(join(BIN.pathname, "publint"), ["run", "--strict", tarball(dir).path], {
      cwd: packDir,
    });
  });

  it("passes @arethetypeswrong/cli", async () => {
    // The packages are ESM-only: "type": "module", only `types` and `default` conditions, Node
    // >= 20. The esm-only profile skips the `node10` and `node16 (from CJS)` resolutions, where
    // "resolution failed" and "CJS resolves to ESM" are what ESM-only means, and still fails on
    // any problem for `node16 (from ESM)` and `bundler`, the modes our users import from.
    await run(join(BIN.pathname, "attw"), ["--profile", "esm-only", tarball(dir).path], {
      cwd: packDir,
    });
  });
});

describe("the published packages together", () => {
  // One changesets `fixed` group: released at one version, each asks for core (and memory) at
  // `^` that version, so npm installs one copy of core for a user who keeps them in step.
  it("share one version, and depend on each other at ^ that version", () => {
    const versions = [...new Set(tarballs.map(({ manifest }) => manifest.version))];
    expect(versions).toHaveLength(1);
    for (const { dir, manifest } of tarballs) {
      for (const field of ["dependencies", "peerDependencies"] as const) {
        const ranges = Object.entries((manifest[field] ?? {}) as Record<string, string>).filter(
          ([name]) => name.startsWith("@mcp-sessions/"),
        );
        for (const [name, range] of ranges) {
          expect(range, `${dir} ${field} ${name}`).toBe(`^${versions[0]}`);
        }
      }
    }
  });
});

describe("README examples in a fresh npm app", () => {
  it.each(README_EXAMPLES)("$name is quoted verbatim by its READMEs", async (example) => {
    const source = await readPackagesFile(example.source);
    for (const readme of example.readmes) {
      expect(await readPackagesFile(readme)).toContain(`\`\`\`ts\n${source}\`\`\``);
    }
  });

  it("resolves the installed packages from its own node_modules, one copy of each", async () => {
    const lock = JSON.parse(await readFile(join(app, "package-lock.json"), "utf8"));
    const installed = Object.entries(lock.packages as Record<string, { resolved?: string }>)
      .filter(([path]) => path.includes("node_modules/@mcp-sessions/"))
      .map(([path, { resolved }]) => [path, resolved?.endsWith(".tgz")]);
    expect(installed).toEqual(
      PUBLISHED_DIRS.map((dir) => [`node_modules/@mcp-sessions/${dir}`, true]).sort(),
    );
  });

  it.each(MODULE_RESOLUTIONS)("typechecks under moduleResolution %s", async (resolution) => {
    await typecheck(app, resolution);
  });

  it("runs the memory example with no service", async () => {
    const { stdout } = await run("node", ["dist/memory.js"], { cwd: app });
    expect(stdout.trimEnd().split("\n")).toEqual([
      "{ plan: 'pro' } undefined",
      expect.stringMatching(/^session [0-9a-f-]{36} ended: destroyed$/),
    ]);
  });

  describe("with a Redis", () => {
    let redis: SpawnedRedis;

    beforeAll(async () => {
      redis = await spawnRedisServer();
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it("runs the Redis example", async () => {
      const { stdout } = await run("node", ["dist/redis.js"], {
        cwd: app,
        env: userEnv({ REDIS_URL: redis.url }),
        timeoutMs: 30_000,
      });
      expect(stdout.trimEnd().split("\n")).toEqual([
        "{ plan: 'pro' }",
        expect.stringMatching(/^session [0-9a-f-]{36} ended: destroyed$/),
      ]);
    });
  });

  describe("the session-mcp example as a server", () => {
    let server: ChildProcess | undefined;

    afterAll(() => {
      if (server?.exitCode === null) server.kill("SIGKILL");
    });

    it("serves the SDK Client over HTTP, then closes on SIGTERM", async () => {
      const child = spawn("node", ["dist/mcp.js"], {
        cwd: app,
        env: userEnv({ PORT: "0" }),
        stdio: ["ignore", "pipe", "pipe"],
      });
      server = child;
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk;
      });
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
        stderr += chunk;
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));

      const listening = /^MCP server on (http:\/\/127\.0\.0\.1:\d+\/mcp)\n/;
      await expect
        .poll(() => listening.test(stdout) || child.exitCode !== null, { timeout: 15_000 })
        .toBe(true);
      expect(child.exitCode, `the example exited early:\n${stderr}`).toBeNull();
      const url = new URL(listening.exec(stdout)?.[1] ?? "");

      const client = new Client({ name: "consumer-test", version: "1.0.0" });
      const transport = new StreamableHTTPClientTransport(url);
      await client.connect(transport);
      const result = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
      expect(result.content).toEqual([{ type: "text", text: "5" }]);
      await transport.terminateSession();
      await client.close();

      child.kill("SIGTERM");
      expect(await exited, stderr).toBe(0);
      expect(stdout.trimEnd().split("\n")).toEqual([
        `MCP server on ${url.href}`,
        "MCP server closed",
      ]);
    });
  });
});
