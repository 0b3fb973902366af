import { spawn } from "node:child_process";

export interface ProcessResult {
  /** The exit code, or `null` when a signal ended the process. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Whether the process was killed for running past its timeout. */
  readonly timedOut: boolean;
  /** stdout and stderr, interleaved as they came. */
  readonly output: string;
}

export interface RunProcessOptions {
  /** After this many ms the process gets SIGKILL. */
  readonly timeoutMs: number;
  readonly cwd?: string;
}

/** Runs a command without blocking the test process, and resolves once it exits. */
export function runProcess(
  command: string,
  args: readonly string[],
  options: RunProcessOptions,
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
      // No colours: the output is parsed, and quoted in failure messages.
      env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" },
    });
    let output = "";
    const append = (chunk: string) => {
      output += chunk;
    };
    child.stdout.setEncoding("utf8").on("data", append);
    child.stderr.setEncoding("utf8").on("data", append);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    // Last resort if the test process ends first: no child outlives it.
    const killAtExit = () => child.kill("SIGKILL");
    process.once("exit", killAtExit);
    child.once("error", (error) => {
      clearTimeout(timer);
      process.off("exit", killAtExit);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      process.off("exit", killAtExit);
      resolve({ code, signal, timedOut, output });
    });
  });
}
