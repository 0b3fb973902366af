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

/**
 * What every `logger` option takes: a `SendLog` function, or an object with a `sendLog()`
 * method, as the seed's SessionManager took. An object's method is called on the object, so
 * `this` is the object.
 */
export type Logger = SendLog | { readonly sendLog: SendLog };

/**
 * Turns a `logger` option into a `SendLog`. A function comes back as it is; for an object, the
 * result calls `logger.sendLog(entry)`, looked up at each entry.
 * @throws TypeError when `logger` is neither a function nor an object with a sendLog() method
 */
export function toSendLog(logger: unknown): SendLog {
  if (typeof logger === "function") return logger as SendLog;
  if (
    typeof logger === "object" &&
    logger !== null &&
    typeof (logger as { sendLog?: unknown }).sendLog === "function"
  ) {
    const target = logger as { readonly sendLog: SendLog };
    return (entry) => target.sendLog(entry);
  }
  // An object is not printed: String() may throw (no prototype) or run the caller's toString.
  const shown =
    typeof logger === "object" && logger !== null
      ? "an object without a sendLog() method"
      : `\`${String(logger)}\``;
  throw new TypeError(
    `Expected \`logger\` to be a function or an object with a sendLog() method, got ${shown} (${typeof logger})`,
  );
}

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
