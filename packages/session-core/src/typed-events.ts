import { runGuarded } from "./guard.js";
import type { SendLog } from "./logger.js";

type Listener<T> = (event: T) => unknown;

/**
 * A small event emitter over a fixed map of event names to payloads. Listeners run guarded:
 * a throwing listener is logged and the others still run. `emit` never throws.
 */
export class TypedEvents<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();
  readonly #sendLog: SendLog;
  readonly #logger: string;

  constructor(sendLog: SendLog, logger: string) {
    this.#sendLog = sendLog;
    this.#logger = logger;
  }

  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let listeners = this.#listeners.get(name);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(name, listeners);
    }
    listeners.add(listener as Listener<never>);
    return () => this.off(name, listener);
  }

  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(name)?.delete(listener as Listener<never>);
  }

  /** Calls every listener; resolves when all have settled. */
  emit<K extends keyof Events>(name: K, event: Events[K]): Promise<void> {
    const listeners = this.#listeners.get(name);
    if (!listeners || listeners.size === 0) return Promise.resolve();
    return Promise.all(
      [...listeners].map((listener) =>
        runGuarded(this.#sendLog, this.#logger, `"${String(name)}" listener`, () =>
          (listener as Listener<Events[K]>)(event),
        ),
      ),
    ).then(() => {});
  }

  removeAll(): void {
    this.#listeners.clear();
  }
}
