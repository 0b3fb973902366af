import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { runProcess } from "./run-process.js";

// The CLI of `@modelcontextprotocol/conformance`, a devDependency pinned to one version:
//   conformance list --server                          one "  - <scenario> [<spec versions>]" a line
//   conformance server --url <url> --scenario <name> -o <dir>
// `server` runs one scenario as an MCP client against the URL, prints its checks and exits 1
// when any check has status FAILURE, 0 otherwise (WARNING and INFO do not fail). With `-o` it
// writes the checks to <dir>/server-<scenario>-<timestamp>/checks.json.

/** The version whose scenarios {@link SERVER_SCENARIOS} lists. */
export const CONFORMANCE_VERSION = "0.1.16";

/**
 * Every server scenario of {@link CONFORMANCE_VERSION}, as `conformance list --server` prints
 * them: the 30 of its default "active" suite and the 2 "pending" ones (`json-schema-2020-12`,
 * `server-sse-polling`). Written out so each becomes a named test; a test checks the CLI agrees.
 */
export const SERVER_SCENARIOS = [
  "server-initialize",
  "logging-set-level",
  "ping",
  "completion-complete",
  "tools-list",
  "tools-call-simple-text",
  "tools-call-image",
  "tools-call-audio",
  "tools-call-embedded-resource",
  "tools-call-mixed-content",
  "tools-call-with-logging",
  "tools-call-error",
  "tools-call-with-progress",
  "tools-call-sampling",
  "tools-call-elicitation",
  "json-schema-2020-12",
  "elicitation-sep1034-defaults",
  "server-sse-polling",
  "server-sse-multiple-streams",
  "elicitation-sep1330-enums",
  "resources-list",
  "resources-read-text",
  "resources-read-binary",
  "resources-templates-read",
  "resources-subscribe",
  "resources-unsubscribe",
  "prompts-list",
  "prompts-get-simple",
  "prompts-get-with-args",
  "prompts-get-embedded-resource",
  "prompts-get-with-image",
  "dns-rebinding-protection",
] as const;

/**
 * How long one scenario may run, in ms. The slowest wait in a scenario is for the client's
 * answer to a server request, which the fixture gives up on after 10 s; the CLI's own client
 * waits up to 60 s for any response.
 */
export const SCENARIO_TIMEOUT_MS = 75_000;

/** One check of a scenario, as the CLI writes it to checks.json. */
export interface ConformanceCheck {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly status: "SUCCESS" | "FAILURE" | "WARNING" | "INFO" | "SKIPPED";
  readonly errorMessage?: string;
}

/** What one `conformance server --scenario` run produced. */
export interface ScenarioRun {
  readonly scenario: string;
  /** The CLI's exit code: 0 when no check failed; `null` when it was killed. */
  readonly exitCode: number | null;
  /** The checks from checks.json; empty when the CLI wrote none. */
  readonly checks: readonly ConformanceCheck[];
  /** The CLI's stdout and stderr. */
  readonly output: string;
}

/** The CLI's entry point inside the installed package. */
export function conformanceCli(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve("@modelcontextprotocol/conformance/package.json");
  const manifest = require(manifestPath) as { version: string; bin: { conformance: string } };
  if (manifest.version !== CONFORMANCE_VERSION) {
    throw new Error(
      `@modelcontextprotocol/conformance is ${manifest.version}, but SERVER_SCENARIOS lists ${CONFORMANCE_VERSION}'s; update both together`,
    );
  }
  return join(dirname(manifestPath), manifest.bin.conformance);
}

/** The server scenarios the CLI knows, from `conformance list --server`. */
export async function listServerScenarios(node: string): Promise<string[]> {
  const listed = await runProcess(node, [conformanceCli(), "list", "--server"], {
    timeoutMs: 30_000,
  });
  if (listed.code !== 0) {
    throw new Error(`conformance list exited ${listed.code ?? listed.signal}:\n${listed.output}`);
  }
  return [...listed.output.matchAll(/^ {2}- (\S+)/gm)].map((match) => match[1] ?? "");
}

/**
 * Runs one server scenario against `url` with the CLI under `node`, in a temp dir that is
 * removed afterwards, and reads back its checks.
 */
export async function runServerScenario(
  node: string,
  url: string,
  scenario: string,
): Promise<ScenarioRun> {
  const outputDir = await mkdtemp(join(tmpdir(), "conformance-"));
  try {
    const args = [conformanceCli(), "server", "--url", url, "--scenario", scenario];
    const run = await runProcess(node, [...args, "-o", outputDir], {
      timeoutMs: SCENARIO_TIMEOUT_MS,
      cwd: outputDir,
    });
    const output = run.timedOut
      ? `${run.output}\n[killed after ${SCENARIO_TIMEOUT_MS} ms]`
      : run.output;
    return { scenario, exitCode: run.code, checks: await readChecks(outputDir), output };
  } finally {
    await rm(outputDir, { recursive: true, force: true });
  }
}

/**
 * Why a run does not count as a pass, or nothing when it does: each check with status FAILURE
 * as "<id>: <error message>", else a non-zero exit, and a run that wrote no checks at all.
 */
export function scenarioProblems(run: ScenarioRun): string[] {
  const problems = run.checks
    .filter((check) => check.status === "FAILURE")
    .map((check) => `${check.id}: ${check.errorMessage ?? check.description}`);
  if (problems.length === 0 && run.exitCode !== 0) {
    problems.push(`the CLI exited ${run.exitCode ?? "by a signal"}`);
  }
  if (run.checks.length === 0) problems.push("the CLI wrote no checks.json");
  return problems;
}

/** The checks that warned, as "<id>: <error message>"; a warning does not fail a scenario. */
export function warningChecks(run: ScenarioRun): string[] {
  return run.checks
    .filter((check) => check.status === "WARNING")
    .map((check) => `${check.id}: ${check.errorMessage ?? check.description}`);
}

async function readChecks(outputDir: string): Promise<ConformanceCheck[]> {
  // The CLI writes checks.json only once the scenario ran to its end.
  const [resultDir] = await readdir(outputDir);
  if (resultDir === undefined) return [];
  const text = await readFile(join(outputDir, resultDir, "checks.json"), "utf8");
  return JSON.parse(text) as ConformanceCheck[];
}
