import { copyFile, mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { run, userEnv } from "./run.js";

const PACKAGES_DIR = fileURLToPath(new URL("../../../", import.meta.url));
const REPO_DIR = join(PACKAGES_DIR, "..");
/** The workspace's TypeScript; the consumer app installs none of its own. */
export const TSC = join(REPO_DIR, "node_modules", ".bin", "tsc");

/** Every package that `pnpm publish -r` publishes, by folder under `packages/`. */
export const PUBLISHED_DIRS = [
  "session-core",
  "session-memory",
  "session-redis",
  "session-mcp",
  "session-testing",
] as const;

export type PublishedDir = (typeof PUBLISHED_DIRS)[number];

/** What a user installs beside our packages: the peers and the examples' own imports. */
const THIRD_PARTY = ["@modelcontextprotocol/sdk@1.32.2", "zod@4", "ioredis@6", "@types/node@20"];

/** A README quick start, copied into the consumer app byte for byte. */
export interface ReadmeExample {
  /** File name inside the app's `examples/`. */
  name: "memory" | "redis" | "mcp";
  /** The example file, relative to `packages/`. */
  source: string;
  /** READMEs (relative to `packages/`) that quote the example verbatim. */
  readmes: readonly string[];
}

export const README_EXAMPLES: readonly ReadmeExample[] = [
  {
    name: "memory",
    source: "session-memory/examples/quick-start.ts",
    readmes: ["session-memory/README.md", "session-core/README.md"],
  },
  {
    name: "redis",
    source: "session-redis/examples/quick-start.ts",
    readmes: ["session-redis/README.md"],
  },
  {
    name: "mcp",
    source: "session-mcp/examples/quick-start.ts",
    readmes: ["session-mcp/README.md"],
  },
];

/** How the app compiles and typechecks the examples; `build` emits what `node` runs. */
const TSCONFIGS = {
  build: { module: "nodenext", moduleResolution: "nodenext", outDir: "dist", noEmit: false },
  node16: { module: "node16", moduleResolution: "node16", noEmit: true },
  nodenext: { module: "nodenext", moduleResolution: "nodenext", noEmit: true },
  bundler: { module: "esnext", moduleResolution: "bundler", noEmit: true },
} as const;

export type ModuleResolution = Exclude<keyof typeof TSCONFIGS, "build">;
export const MODULE_RESOLUTIONS: readonly ModuleResolution[] = ["node16", "nodenext", "bundler"];

/** A packed package: where its tarball is and what `pnpm pack` wrote into its manifest. */
export interface Tarball {
  dir: PublishedDir;
  path: string;
  manifest: Record<string, unknown>;
}

/** Runs `pnpm pack` in every published package, as `pnpm publish -r` would, into `destination`. */
export async function packAll(destination: string): Promise<Tarball[]> {
  const tarballs: Tarball[] = [];
  for (const dir of PUBLISHED_DIRS) {
    const cwd = join(PACKAGES_DIR, dir);
    const { name, version } = JSON.parse(await readFile(join(cwd, "package.json"), "utf8"));
    await run("pnpm", ["pack", "--pack-destination", destination], { cwd, env: process.env });
    const path = join(destination, `${name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`);
    const { stdout } = await run("tar", ["-xzOf", path, "package/package.json"], { cwd });
    tarballs.push({ dir, path, manifest: JSON.parse(stdout) });
  }
  return tarballs;
}

/** Lists the files in a tarball, without the `package/` prefix. */
export async function listTarball(path: string): Promise<string[]> {
  const { stdout } = await run("tar", ["-tzf", path], { cwd: tmpdir() });
  return stdout
    .split("\n")
    .filter((line) => line !== "" && !line.endsWith("/"))
    .map((line) => line.replace(/^package\//, ""));
}

/**
 * Makes a fresh app outside the workspace, installs the tarballs there with plain `npm`, copies
 * the README examples into `examples/` unchanged and compiles them to `dist/` with `tsc`.
 */
export async function createConsumerApp(tarballs: readonly Tarball[]): Promise<string> {
  const app = await mkdtemp(join(tmpdir(), "mcp-sessions-consumer-"));
  await writeFile(
    join(app, "package.json"),
    `${JSON.stringify({ type: "module", private: true }, null, 2)}\n`,
  );
  await run(
    "npm",
    ["install", "--no-audit", "--no-fund", ...tarballs.map(({ path }) => path), ...THIRD_PARTY],
    { cwd: app, timeoutMs: 150_000 },
  );

  await mkdir(join(app, "examples"));
  for (const example of README_EXAMPLES) {
    await copyFile(join(PACKAGES_DIR, example.source), join(app, "examples", `${example.name}.ts`));
  }
  for (const [name, options] of Object.entries(TSCONFIGS)) {
    const tsconfig = {
      compilerOptions: {
        ...options,
        target: "es2022",
        lib: ["es2022"],
        types: ["node"],
        strict: true,
        // As most apps do: the SDK's declarations need the DOM lib (`HeadersInit`). Our own
        // declarations are checked by attw, and a missing or wrong one still fails here.
        skipLibCheck: true,
        rootDir: "examples",
      },
      include: ["examples"],
    };
    await writeFile(join(app, `tsconfig.${name}.json`), `${JSON.stringify(tsconfig, null, 2)}\n`);
  }
  await run(TSC, ["-p", "tsconfig.build.json"], { cwd: app, env: userEnv() });
  return app;
}

/** Typechecks the examples in `app` against the installed packages under one resolution mode. */
export function typecheck(app: string, resolution: ModuleResolution) {
  return run(TSC, ["-p", `tsconfig.${resolution}.json`], { cwd: app });
}

/** Reads a file under `packages/`. */
export function readPackagesFile(path: string): Promise<string> {
  return readFile(join(PACKAGES_DIR, path), "utf8");
}
