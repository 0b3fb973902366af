import type { LogLevel, SendLog } from "@mcp-sessions/session-core";
import { describeError } from "@mcp-sessions/session-core/store";

export type { LogLevel };

/** MCP logging levels (RFC 5424), least severe first. */
export const LOG_LEVELS = [
  "debug",
  "info",
  "notice",
  "warning",
  "error",
  "critical",
  "alert",
  "emergency",
] as const satisfies readonly LogLevel[];

/** Options of {@link createJsonLineLogger}. */
export interface JsonLineLoggerOptions {
  /** Added to every line as `instance`, to tell the processes of a fleet apart. @default none */
  readonly instance?: string | undefined;
  /** Receives each line, newline included. @default a write to stderr */
  readonly write?: (line: string) => void;
}

/**
 * A `SendLog` that writes entries at or above `minimum` as JSON lines,
 * `{ time, level, instance?, logger, data }`. The libraries never put metadata values in `data`;
 * errors are reduced to name, code and message.
 */
export function createJsonLineLogger(
  minimum: LogLevel,
  options: JsonLineLoggerOptions = {},
): SendLog {
  const { instance, write = (line: string) => process.stderr.write(line) } = options;
  const threshold = LOG_LEVELS.indexOf(minimum);
  return (entry) => {
    if (LOG_LEVELS.indexOf(entry.level) < threshold) return;
    const data: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(entry.data)) {
      data[key] = value instanceof Error ? describeError(value) : value;
    }
    const line = {
      time: new Date().toISOString(),
      level: entry.level,
      instance,
      logger: entry.logger,
      data,
    };
    // JSON.stringify leaves out `instance` when it is undefined.
    write(`${JSON.stringify(line)}\n`);
  };
}
