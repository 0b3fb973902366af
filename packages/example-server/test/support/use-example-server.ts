import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SessionManager, type SessionStore, silentSendLog } from "@mcp-sessions/session-core";
import { createMcpSessionHandler } from "@mcp-sessions/session-mcp";
import { afterEach } from "vitest";
import { type ExampleServer, loadConfig, startExampleServer } from "../../src/index.js";
import { buildMcpServer } from "../../src/mcp-server.js";
import type { StoreKind } from "../../src/open-session-store.js";
import { createRequestListener } from "../../src/routes.js";
import type { SessionsPerAddress } from "../../src/sessions-per-address.js";

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
  /**
   * The example server's routes in this process, over a store the test shaped (one that fails,
   * or hears nothing), with a manager and MCP handler of their own, on a free loopback port.
   * Resolves to the server's origin, such as `http://127.0.0.1:41234`. Closed after the test.
   */
  serveRoutes(store: SessionStore, routes: RoutesUnderTest): Promise<string>;
}

export interface RoutesUnderTest {
  /** What `/healthz` reports the store as. */
  readonly kind: StoreKind;
  /** The per-address cap, made on the routes' own manager. @default none */
  readonly sessionsPerAddress?: (sessions: SessionManager) => SessionsPerAddress;
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
    async serveRoutes(store, routes) {
      const sessions = new SessionManager({ store, logger: silentSendLog });
      const mcp = createMcpSessionHandler({
        sessions,
        createServer: () => buildMcpServer(),
        logger: silentSendLog,
      });
      const http = createServer(
        createRequestListener({
          mcp,
          sessions,
          store: routes.kind,
          allowedHostnames: undefined,
          sessionsPerAddress: routes.sessionsPerAddress?.(sessions),
          logger: silentSendLog,
        }),
      );
      cleanups.push(async () => {
        await mcp.close();
        await sessions.close();
        await store.close();
        await new Promise((resolve) => http.close(resolve));
      });
      await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
      return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    },
  };
}
