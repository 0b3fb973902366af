/**
 * What every MCP group shares: the MCP server each session gets, and `node:http` servers on
 * 127.0.0.1.
 */
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";

/**
 * A fresh MCP server with one tool, `add`, made for every session on both sides, so that what
 * differs is only how sessions are kept.
 */
export function buildAddServer(): McpServer {
  const server = new McpServer({ name: "bench-add", version: "0.0.0" });
  server.registerTool(
    "add",
    { description: "Adds two numbers.", inputSchema: { a: z.number(), b: z.number() } },
    async ({ a, b }) => ({ content: [{ type: "text", text: String(a + b) }] }),
  );
  return server;
}

/** A `node:http` server listening on 127.0.0.1. */
export interface Listening {
  readonly server: Server;
  /** `http://127.0.0.1:<port>/mcp` */
  readonly url: URL;
  /** Stops listening and drops every connection, open streams included. Idempotent. */
  close(): Promise<void>;
}

/** Listens with `listener` on a free port of 127.0.0.1. */
export async function listen(listener: RequestListener): Promise<Listening> {
  const server = createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    server,
    url: new URL(`http://127.0.0.1:${port}/mcp`),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** Closes everything in `closers` (last opened first), even when one of them fails. */
export async function closeAll(closers: readonly (() => Promise<void>)[]): Promise<void> {
  const failures: unknown[] = [];
  for (const close of [...closers].reverse()) {
    try {
      await close();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, "closing the MCP bench failed");
}
