/**
 * Last-resort clean-up when the test process ends without stopping what it started. Registered
 * callbacks run synchronously on `process.once("exit")`, and also on SIGTERM, SIGINT and SIGHUP,
 * which end a process without an "exit" event: vitest stops its fork workers with SIGTERM.
 * The listeners are installed while at least one callback is registered and removed with the
 * last one, so a process with nothing to clean carries none.
 */
const cleanups = new Set<() => void>();
const SIGNALS = ["SIGTERM", "SIGINT", "SIGHUP"] as const;
const signalListeners = new Map<NodeJS.Signals, () => void>(
  SIGNALS.map((signal) => [signal, () => onSignal(signal)]),
);

function install(): void {
  process.once("exit", runCleanups);
  for (const [signal, listener] of signalListeners) process.once(signal, listener);
}

function uninstall(): void {
  process.off("exit", runCleanups);
  for (const [signal, listener] of signalListeners) process.off(signal, listener);
}

function runCleanups(): void {
  uninstall();
  const pending = [...cleanups];
  cleanups.clear();
  for (const cleanup of pending) {
    try {
      cleanup();
    } catch (error) {
      // The process is ending: report and carry on with the others, nothing else can be done.
      console.error("@mcp-sessions/session-testing: clean-up at exit failed", error);
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runCleanups();
  // A listener replaces the signal's default action. If no one else listens, do what the signal
  // would have done without us: end the process, by that signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

/**
 * Registers `cleanup` (synchronous: kill a child, remove a temp dir) to run if the process ends
 * first, and returns the function that unregisters it.
 */
export function onProcessExit(cleanup: () => void): () => void {
  const wrapped = (): void => cleanup();
  if (cleanups.size === 0) install();
  cleanups.add(wrapped);
  return () => {
    if (cleanups.delete(wrapped) && cleanups.size === 0) uninstall();
  };
}
