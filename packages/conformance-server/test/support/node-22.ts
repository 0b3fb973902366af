import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { runProcess } from "./run-process.js";

// The conformance CLI needs Node 22 or later; the machine runs Node 20. As scripts/node-matrix.mjs
// `ensureNode` does, and sharing its cache, Node comes from the npm package `node@<major>`,
// installed once into `${XDG_CACHE_HOME:-~/.cache}/mcp-sessions/node-<major>` and reused while
// it answers with the right version. The machine's own Node is left alone.

/** How long installing Node from npm may take, in ms: it downloads a ~30 MB binary. */
export const NODE_INSTALL_TIMEOUT_MS = 180_000;

const cacheRoot = join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "mcp-sessions");

/**
 * The path of a `node` executable of `major`, installed from npm when the cache lacks it.
 * @throws Error when `npm install` fails or the installed binary reports another version
 */
export async function ensureNode(major: string): Promise<string> {
  const prefix = join(cacheRoot, `node-${major}`);
  const bin = join(prefix, "node_modules", "node", "bin");
  if (versionOf(bin)?.startsWith(`v${major}.`)) return join(bin, "node");
  const args = [
    "install",
    "--prefix",
    prefix,
    "--no-save",
    "--no-audit",
    "--no-fund",
    `node@${major}`,
  ];
  const install = await runProcess("npm", args, { timeoutMs: NODE_INSTALL_TIMEOUT_MS });
  if (install.code !== 0) {
    const how = install.timedOut ? `timed out` : `exited ${install.code ?? install.signal}`;
    throw new Error(`npm install node@${major} ${how}:\n${install.output}`);
  }
  const version = versionOf(bin);
  if (!version?.startsWith(`v${major}.`)) {
    throw new Error(`node@${major} installed, but ${bin}/node reports ${version ?? "nothing"}`);
  }
  return join(bin, "node");
}

function versionOf(bin: string): string | undefined {
  if (!existsSync(join(bin, "node"))) return undefined;
  const result = spawnSync(join(bin, "node"), ["--version"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}
