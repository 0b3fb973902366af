import { execFile } from "node:child_process";

/** What a finished command printed. */
export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Options for {@link run}. */
export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** @default 120_000 */
  timeoutMs?: number;
}

/**
 * The environment of a user's shell: without the `npm_*` and `pnpm_*` variables that `pnpm test`
 * sets, so that `npm install` in the consumer app reads no workspace configuration.
 */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^p?npm_/i.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

/**
 * Runs a command to completion. A non-zero exit rejects with the command line and everything
 * it printed, so that the failing line of `publint`, `attw`, `tsc` or `node` is in the report.
 */
export function run(command: string, args: readonly string[], options: RunOptions) {
  return new Promise<RunResult>((resolve, reject) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? userEnv(),
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error === null) {
          resolve({ stdout, stderr });
          return;
        }
        const commandLine = [command, ...args].join(" ");
        reject(
          new Error(
            `\`${commandLine}\` failed (${error.message.split("\n")[0]})\n${stdout}${stderr}`,
            {
              cause: error,
            },
          ),
        );
      },
    );
  });
}
