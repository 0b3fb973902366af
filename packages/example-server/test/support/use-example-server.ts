import { afterEach } from "vitest";
import { type ExampleServer, loadConfig, startExampleServer } from "../../src/index.js";

/** What a test file that runs the example server in its own process works with. */
export interface ExampleServerFixture {
  /**
   * What to undo after the running test, run last first: clients before the servers they talk
   * to. `start` adds each server's `close()` here.
   */
  readonly cleanups: Array<() => unknown>;
  /**
   * The example server on a free loopback port with the memory store, whatever the test's own
   * environment: `env` is all the configuration it reads. Closed after the test.
   */
  start(env?: Readonly<Record<string, string>>): Promise<ExampleServer>;
}

/** Registers an `afterEach` that runs the clean-ups; call it once, at the top of a test file. */
export function useExampleServer(): ExampleServerFixture {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    while (cleanups.length > 0) await cleanups.pop()?.();
  });
  return {
    cleanups,
    async start(env = {}) {
      const server = await startExampleServer(loadConfig({ PORT: "0", HOST: "127.0.0.1", ...env }));
      cleanups.push(() => server.close());
      return server;
    },
  };
}
