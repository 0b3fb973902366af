import type { ServerProcess } from "./start-server-process.js";

/** What {@link startServerFleet} needs of an instance: the `stop()` of a {@link ServerProcess}. */
export type StoppableServer = Pick<ServerProcess, "stop">;

/** What {@link startServerFleet} starts. */
export interface ServerFleetOptions<P extends StoppableServer> {
  /** One name per instance, such as `["A", "B"]`; at least one. */
  readonly names: readonly string[];
  /**
   * Starts the instance called `name`: usually {@link startServerProcess} with the fleet's shared
   * environment (one `REDIS_URL`, one prefix) and the instance's own name.
   */
  readonly start: (name: string) => Promise<P>;
}

/** Instances of one server, started together, that a test stops together. */
export interface ServerFleet<P extends StoppableServer> {
  /** Every instance, in the order of `names`. */
  readonly instances: readonly P[];
  /**
   * Stops every instance at once and resolves once all are done; rejects after that with the
   * first failure (an exit other than 0 on SIGTERM). An instance the test killed is only awaited.
   * Idempotent.
   */
  stop(): Promise<void>;
}

/**
 * Starts every instance at once and resolves once all of them listen. When one fails, the others
 * that started are stopped and it rejects with that first failure, so a test never leaks a
 * process of a half-started fleet. Put the round-robin proxy of `./http` in front of them.
 * @throws TypeError when `names` is empty; the first rejection of `start` otherwise.
 * @example
 * const fleet = await startServerFleet({
 *   names: ["A", "B"],
 *   start: (name) =>
 *     startServerProcess({ name: `my-server ${name}`, script, listening, env: { PORT: "0", REDIS_URL } }),
 * });
 * // ...
 * await fleet.stop();
 */
export async function startServerFleet<P extends StoppableServer>(
  options: ServerFleetOptions<P>,
): Promise<ServerFleet<P>> {
  const { names, start } = options;
  if (names.length === 0) {
    throw new TypeError("Expected `names` to name at least one instance, got `[]`");
  }
  const started = await Promise.allSettled(names.map((name) => start(name)));
  const instances = started.flatMap((result) =>
    result.status === "fulfilled" ? [result.value] : [],
  );
  const failure = started.find((result) => result.status === "rejected");
  if (failure !== undefined) {
    // The failure to start is what the test must see; how the others stop is not.
    await Promise.allSettled(instances.map((instance) => instance.stop()));
    throw failure.reason;
  }
  let stopping: Promise<void> | undefined;
  return Object.freeze({
    instances,
    stop() {
      stopping ??= (async () => {
        const stopped = await Promise.allSettled(instances.map((instance) => instance.stop()));
        const refused = stopped.find((result) => result.status === "rejected");
        if (refused !== undefined) throw refused.reason;
      })();
      return stopping;
    },
  });
}
