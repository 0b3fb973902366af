import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CONFIG_VARIABLES, LISTENING } from "./example-server-process.js";

/** The repository root, where the README runs `pnpm start`. */
export const REPOSITORY_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** `pnpm start` at the repository root, as a terminal runs it: a process group of its own. */
export interface PnpmStart {
  readonly child: ChildProcess;
  /** Everything written to stdout so far: turbo's summary, then the "listening" line. */
  stdout(): string;
  stderr(): string;
  /** Resolves once a line of stdout matches `pattern`; rejects if the process exits first. */
  line(pattern: RegExp): Promise<RegExpExecArray>;
  /** Resolves with the MCP URL once the server printed its "listening" line. */
  listening(): Promise<string>;
  /** Sends `signal` to the whole process group, as Ctrl-C in a terminal does. */
  signalGroup(signal: NodeJS.Signals): void;
  /** SIGKILL to whatever is left of the process group: clean-up after a failed test. */
  killGroup(): void;
  readonly exited: Promise<Exit>;
}

/**
 * Runs `pnpm start` in the repository root with `env` (and none of the test's own server
 * variables), detached, so that it leads a process group as a terminal's foreground job does.
 */
export function pnpmStart(env: Readonly<Record<string, string>>): PnpmStart {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  for (const name of CONFIG_VARIABLES) delete childEnv[name];
  const child = spawn("pnpm", ["start"], {
    cwd: REPOSITORY_ROOT,
    env: { ...childEnv, ...env },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters: Array<{ pattern: RegExp; resolve: (match: RegExpExecArray) => void }> = [];
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    for (const waiter of [...waiters]) {
      const match = firstLine(stdout, waiter.pattern);
      if (match === undefined) continue;
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(match);
    }
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const line = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const match = firstLine(stdout, pattern);
      if (match !== undefined) {
        resolve(match);
        return;
      }
      waiters.push({ pattern, resolve });
      void exited.then(({ code, signal }) =>
        reject(
          new Error(
            `pnpm start exited (${code ?? signal}) before printing ${pattern}; stdout:\n${stdout}\nstderr:\n${stderr}`,
          ),
        ),
      );
    });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    line,
    listening: async () => (await line(LISTENING))[1] ?? "",
    signalGroup: (signal) => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        process.kill(-child.pid, signal);
      }
    },
    killGroup: () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch (error) {
        // ESRCH: every process of the group is gone already, which is what was wanted.
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
      }
    },
    exited,
  };
}

function firstLine(text: string, pattern: RegExp): RegExpExecArray | undefined {
  for (const line of text.split("\n")) {
    const match = pattern.exec(line);
    if (match !== null) return match;
  }
  return undefined;
}
