import { describeError, type LogLevel, type SendLog } from "@mcp-sessions/session-core";

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

/**
 * A `SendLog` that writes entries at or above `minimum` to `write` as JSON lines. The libraries
 * never put metadata values in `data`; errors are reduced to name, code and message.
 */
export function createJsonLineLogger(
  minimum: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line),
): SendLog {
  const threshold = LOG_LEVELS.indexOf(minimum);
  return (entry) => {
    if (LOG_LEVELS.indexOf(entry.level) < threshold) return;
    const data: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(entry.data)) {
      data[key] = value instanceof Error ? describeError(value) : value;
    }
    write(
      `${JSON.stringify({ time: new Date().toISOString(), level: entry.level, logger: entry.logger, data })}\n`,
    );
  };
}
