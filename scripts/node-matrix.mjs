// Runs every published package's unit tests on Node 22, 24 and 26 and prints a markdown table.
// The machine's Node (20) runs the full suite through `pnpm test`; this script only adds the other
// supported lines. Each Node comes from the npm package `node@<major>`, installed once into
// `${XDG_CACHE_HOME:-~/.cache}/mcp-sessions/node-<major>` and reused while it answers with the
// right version. Run it after `pnpm test`, which builds `dist` and generates the Lua module.
//
// Exit status is non-zero when any test fails, or when a tool (Node, pnpm, vitest) cannot run:
// that row reads "tooling failure" with the first error line, so it is never mistaken for a pass.
// The last line is "node-matrix: N passed, N failed", which `.ci/run` adds to its totals.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

const MAJORS = ["22", "24", "26"];

/** Package, and the vitest projects to run: the fast ones, never Fault or Cluster suites. */
const PACKAGES = [
  { name: "@mcp-sessions/session-core", projects: [] },
  { name: "@mcp-sessions/session-memory", projects: [] },
  { name: "@mcp-sessions/session-testing", projects: ["contract"] },
  { name: "@mcp-sessions/session-redis", projects: ["redis"] },
  { name: "@mcp-sessions/session-mcp", projects: [] },
  { name: "consumer-test", projects: [] },
];

const cacheRoot = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "mcp-sessions");

/** Returns the bin folder of Node `major`, installing it from npm when the cache lacks it. */
function ensureNode(major) {
  const prefix = join(cacheRoot, `node-${major}`);
  const bin = join(prefix, "node_modules", "node", "bin");
  if (versionOf(bin)?.startsWith(`v${major}.`)) return bin;
  console.log(`node-matrix: installing node@${major} into ${prefix}`);
  const install = spawnSync(
    "npm",
    ["install", "--prefix", prefix, "--no-save", "--no-audit", "--no-fund", `node@${major}`],
    { stdio: "inherit" },
  );
  if (install.status !== 0) throw new Error(`npm install node@${major} exited ${install.status}`);
  const version = versionOf(bin);
  if (!version?.startsWith(`v${major}.`)) {
    throw new Error(`node@${major} installed, but ${bin}/node reports ${version ?? "nothing"}`);
  }
  return bin;
}

function versionOf(bin) {
  if (!existsSync(join(bin, "node"))) return undefined;
  const result = spawnSync(join(bin, "node"), ["--version"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** Runs one package's tests under the Node in `bin`; resolves to a table cell and the counts. */
function runPackage(bin, major, pkg) {
  const projectArgs = pkg.projects.flatMap((project) => ["--project", project]);
  // `node --version` runs inside `pnpm exec`, so it reports the Node that vitest gets too.
  const command = `echo "node-matrix-version $(node --version)" && exec vitest run ${projectArgs.join(" ")}`;
  return new Promise((resolve) => {
    const child = spawn("pnpm", ["--filter", pkg.name, "exec", "sh", "-c", command], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: "1", FORCE_COLOR: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => (output += chunk));
    child.stderr.on("data", (chunk) => (output += chunk));
    child.on("close", (code) => resolve(summarize(output, code, major)));
  });
}

function summarize(output, code, major) {
  const version = /node-matrix-version (v\S+)/.exec(output)?.[1];
  const tests = /^\s*Tests\s+(.*)\(\d+\)\s*$/m.exec(output)?.[1];
  const passed = Number(/(\d+) passed/.exec(tests ?? "")?.[1] ?? 0);
  const failed = Number(/(\d+) failed/.exec(tests ?? "")?.[1] ?? 0);
  if (!version?.startsWith(`v${major}.`)) {
    return tooling(output, `ran on ${version ?? "an unknown Node"}, expected v${major}`);
  }
  if (tests === undefined) {
    // No "Tests" line: vitest (or pnpm) did not get as far as running a test.
    const firstError = output
      .split("\n")
      .find((line) => /error/i.test(line) && !line.includes("⎯"))
      ?.trim();
    return tooling(output, firstError ?? `exited ${code} before running tests`);
  }
  if (code !== 0 && failed === 0) {
    return tooling(output, `exited ${code} with ${passed} passed and none failed`);
  }
  const cell = failed === 0 ? `${passed} passed` : `${passed} passed, **${failed} failed**`;
  return { cell, passed, failed, output, tooling: false };
}

function tooling(output, reason) {
  const cell = `tooling failure: ${reason.replaceAll("|", "\\|").slice(0, 120)}`;
  return { cell, passed: 0, failed: 1, output, tooling: true };
}

const rows = [];
let passed = 0;
let failed = 0;
for (const major of MAJORS) {
  let bin;
  let version;
  try {
    bin = ensureNode(major);
    version = versionOf(bin);
  } catch (error) {
    console.log(`node-matrix: ${error.message}`);
    rows.push({
      version: `${major} (not installed)`,
      cells: PACKAGES.map(() => "tooling failure"),
    });
    failed += PACKAGES.length;
    continue;
  }
  const started = Date.now();
  const cells = [];
  for (const pkg of PACKAGES) {
    const result = await runPackage(bin, major, pkg);
    passed += result.passed;
    failed += result.failed;
    cells.push(result.cell);
    if (result.failed > 0) {
      console.log(`\n--- ${pkg.name} on Node ${version} ---\n${result.output}`);
    }
  }
  console.log(`node-matrix: Node ${version} done in ${Math.round((Date.now() - started) / 1000)}s`);
  rows.push({ version, cells });
}

const short = (name) => name.replace("@mcp-sessions/", "");
console.log("\n### Node matrix (unit tests; Node 20 runs the full suite above)\n");
console.log(`| Node | ${PACKAGES.map((pkg) => short(pkg.name)).join(" | ")} |`);
console.log(`| --- | ${PACKAGES.map(() => "---").join(" | ")} |`);
for (const row of rows) console.log(`| ${row.version} | ${row.cells.join(" | ")} |`);
console.log(`\nnode-matrix: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
