import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CONFORMANCE_VERSION,
  listServerScenarios,
  runServerScenario,
  type ScenarioRun,
  SERVER_SCENARIOS,
  scenarioProblems,
  warningChecks,
} from "./support/conformance-cli.js";
import { ensureNode, NODE_INSTALL_TIMEOUT_MS } from "./support/node-22.js";
import { type ConformanceTarget, type Mode, startTarget } from "./support/targets.js";

// The official MCP conformance suite, every server scenario, against the fixture served by
// createMcpSessionHandler: once on one instance ("single"), once on two instances sharing Redis
// behind a round-robin proxy ("fleet"). Each scenario is one test, so a failure names it; it
// passes when the CLI exits 0 and none of the checks it wrote has status FAILURE.

const MODES: readonly Mode[] = ["single", "fleet"];

/** The Node 22 that runs the CLI, installed (once, into the cache) before any test. */
let cliNode: string | undefined;

beforeAll(async () => {
  cliNode = await ensureNode("22");
}, NODE_INSTALL_TIMEOUT_MS);

function nodeForCli(): string {
  if (cliNode === undefined) throw new Error("Node 22 for the conformance CLI is not installed");
  return cliNode;
}

describe(`@modelcontextprotocol/conformance ${CONFORMANCE_VERSION}`, () => {
  it("lists exactly the server scenarios this suite runs", async () => {
    expect(await listServerScenarios(nodeForCli())).toEqual([...SERVER_SCENARIOS]);
  });
});

for (const mode of MODES) {
  describe(`conformance ${mode}`, () => {
    let target: ConformanceTarget | undefined;
    const runs: ScenarioRun[] = [];

    beforeAll(async () => {
      target = await startTarget(mode);
    });

    afterAll(async () => {
      reportTotals(mode, runs);
      await target?.stop();
    });

    for (const scenario of SERVER_SCENARIOS) {
      it(scenario, async () => {
        if (target === undefined) throw new Error(`The ${mode} target did not start`);
        const logMarks = target.processes.map((instance) => instance.stderr().length);
        const run = await runServerScenario(nodeForCli(), target.url, scenario);
        runs.push(run);
        const serverLogs = target.processes
          .map((instance, index) => {
            const written = instance.stderr().slice(logMarks[index]);
            return written === "" ? "" : `--- ${instance.name} stderr ---\n${written}`;
          })
          .join("");
        // The CLI's output before its "Failed Checks" section: the diff shows those checks, and
        // after them the CLI prints the scenario's long description.
        const cliOutput = run.output.split("\n=== Failed Checks ===", 1)[0];
        expect(
          scenarioProblems(run),
          `conformance CLI output:\n${cliOutput}\n${serverLogs}`,
        ).toEqual([]);
      });
    }
  });
}

/** Prints one line per mode for the CI log, then each scenario's problems and warnings. */
function reportTotals(mode: Mode, runs: readonly ScenarioRun[]): void {
  const passed = runs.filter((run) => scenarioProblems(run).length === 0).length;
  const ran = runs.length < SERVER_SCENARIOS.length ? ` (${runs.length} ran)` : "";
  const lines = [`conformance ${mode}: ${passed}/${SERVER_SCENARIOS.length} passed${ran}`];
  for (const run of runs) {
    for (const problem of scenarioProblems(run)) lines.push(`  FAIL ${run.scenario}: ${problem}`);
    for (const warning of warningChecks(run)) lines.push(`  warn ${run.scenario}: ${warning}`);
  }
  console.log(lines.join("\n"));
}
