/** MCP logging levels (RFC 5424), lowest first. */
export type LogLevel =
  | "debug"
  | "info"
  | "notice"
  | "warning"
  | "error"
  | "critical"
  | "alert"
  | "emergency";

/**
 * One log entry, in the shape of MCP's `notifications/message` params, so
 * `server.sendLoggingMessage` plugs in as it is. `logger` names the module
 * (`"session-core/manager"`). `data` never holds metadata values, owners or credentials.
 */
export interface LogEntry {
  readonly level: LogLevel;
  readonly logger: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** Where logs go. May return a promise; a rejection is swallowed, since logging must not fail work. */
export type SendLog = (entry: LogEntry) => void | Promise<void>;

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = {
  debug: 0,
  info: 1,
  notice: 2,
  warning: 3,
  error: 4,
  critical: 5,
  alert: 6,
  emergency: 7,
};

/** The default logger: warnings and worse, one JSON line each on stderr. */
export const defaultSendLog: SendLog = (entry) => {
  if (LEVEL_RANK[entry.level] < LEVEL_RANK.warning) return;
  process.stderr.write(`${JSON.stringify({ ...entry, data: describeData(entry.data) })}\n`);
};

/** A logger that drops everything, for tests and for callers that log elsewhere. */
export const silentSendLog: SendLog = () => {};

/**
 * Sends a log entry and never throws: a logger that throws or rejects must not turn a
 * successful operation into a failed one.
 */
export function log(sendLog: SendLog, entry: LogEntry): void {
  try {
    const result = sendLog(entry);
    if (result instanceof Promise) result.catch(() => {});
  } catch {
    // The logger itself failed; there is nowhere left to report it.
  }
}

/** Turns an Error into its name, code and message; stack and cause stay out of the line. */
export function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(code === undefined ? {} : { code }) };
  }
  return { name: typeof error };
}

function describeData(data: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    out[key] = value instanceof Error ? describeError(value) : value;
  }
  return out;
}
