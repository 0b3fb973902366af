// `node ../../scripts/build-dist.mjs <tsconfig>`, run in a package directory (as its `build`
// script is): compiles with `tsc -p <tsconfig>` into a fresh directory beside dist/, then moves
// each file into dist/ with rename(2), which replaces a file in one step.
//
// dist/ is never deleted and never half-written, so a process that is running or starting from
// it while another build runs (two `pnpm start`s at once, each building the workspace) only ever
// reads whole files. `rm -rf dist && tsc` left a window in which a second build's tsc found no
// declarations (TS2307) and a starting server no modules.
//
// Files whose content did not change are left alone, so a rebuild of the same sources changes
// nothing on disk. Files the build no longer makes are removed last, once every new file is in
// place. When tsc fails, dist/ is left as it was.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";

const project = process.argv[2];
if (project === undefined) {
  console.error("usage: node scripts/build-dist.mjs <tsconfig>, in the package's directory");
  process.exit(2);
}
const dist = "dist";
// Beside dist/, on the same file system (rename(2) cannot cross one) and at the same depth, so
// any source map's relative paths stay right after the move.
const staging = mkdtempSync(".dist-");
let status = 1;
try {
  const tsc = spawnSync("tsc", ["-p", project, "--outDir", staging], { stdio: "inherit" });
  if (tsc.error) throw tsc.error;
  status = tsc.status ?? 1;
  if (status === 0) install(staging, dist);
} finally {
  rmSync(staging, { recursive: true, force: true });
}
process.exit(status);

/** Moves every file of `from` into `to`, then removes what `to` has beyond them. */
function install(from, to) {
  const built = new Set(filesUnder(from).map((file) => relative(from, file)));
  for (const file of built) {
    const target = join(to, file);
    if (existsSync(target) && sameContent(join(from, file), target)) continue;
    mkdirSync(dirname(target), { recursive: true });
    renameSync(join(from, file), target);
  }
  if (!existsSync(to)) return;
  for (const file of filesUnder(to)) {
    if (!built.has(relative(to, file))) rmSync(file, { force: true });
  }
  removeEmptyDirectories(to);
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

function sameContent(a, b) {
  return readFileSync(a).equals(readFileSync(b));
}

function removeEmptyDirectories(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const sub = join(dir, entry.name);
    removeEmptyDirectories(sub);
    try {
      rmdirSync(sub);
    } catch (error) {
      // Not empty: it holds files of this build, or another build just moved some in.
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    }
  }
}
