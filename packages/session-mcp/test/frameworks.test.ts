import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { SessionManager, silentSendLog } from "@mcp-sessions/session-core";
import { MemorySessionStore } from "@mcp-sessions/session-memory";
import express from "express";
import Fastify, { type FastifyInstance } from "fastify";
import { Hono } from "hono";
import { afterEach, describe, expect, it } from "vitest";
import { createMcpSessionHandler, type McpSessionHandler } from "../src/index.js";
import { connectClient, routedFetch } from "./support/handler-fleet.js";
import { buildTestServer } from "./support/test-server.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A handler on its own manager over `store`, which the caller made and so closes. */
function handlerOn(store: MemorySessionStore): McpSessionHandler {
  const sessions = new SessionManager({ store, logger: silentSendLog });
  const mcp = createMcpSessionHandler({
    sessions,
    createServer: () => buildTestServer(),
    logger: silentSendLog,
  });
  cleanups.push(async () => {
    await mcp.close();
    await sessions.close();
  });
  return mcp;
}

/** The port of `server`, which is closed, connections and all, once the test ends. */
function servedUntilTestEnds(server: Server): number {
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return (server.address() as AddressInfo).port;
}

async function startExpress(mcp: McpSessionHandler): Promise<number> {
  const app = express();
  app.use(express.json());
  app.all("/mcp", (req, res) => mcp(req, res, req.body));
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, "127.0.0.1", () => resolve(listening));
  });
  return servedUntilTestEnds(server);
}

async function startFastify(mcp: McpSessionHandler): Promise<number> {
  const fastify: FastifyInstance = Fastify();
  fastify.all("/mcp", async (request, reply) => {
    reply.hijack();
    await mcp(request.raw, reply.raw, request.body);
  });
  await fastify.listen({ port: 0, host: "127.0.0.1" });
  cleanups.push(async () => {
    fastify.server.closeAllConnections();
    await fastify.close();
  });
  return (fastify.server.address() as AddressInfo).port;
}

/** Hono on its own Node server, through the handler's web face. */
async function startHono(mcp: McpSessionHandler): Promise<number> {
  const app = new Hono();
  app.all("/mcp", (c) => mcp.fetch(c.req.raw));
  const server = await new Promise<Server>((resolve) => {
    const listening = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
      resolve(listening as Server),
    );
  });
  return servedUntilTestEnds(server);
}

async function exercise(ports: number[]): Promise<void> {
  let next = 0;
  const fetch = routedFetch(() => ports[next++ % ports.length] as number);
  const url = new URL(`http://127.0.0.1:${ports[0]}/mcp`);
  const { client, transport } = await connectClient(url, fetch);
  expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
  const progress: number[] = [];
  const result = await client.callTool({ name: "countdown", arguments: { from: 2 } }, undefined, {
    onprogress: ({ progress: step }) => progress.push(step),
  });
  expect(result.content).toEqual([{ type: "text", text: "liftoff" }]);
  expect(progress).toEqual([1, 2]);
  const sum = await client.callTool({ name: "add", arguments: { a: 40, b: 2 } });
  expect(sum.content).toEqual([{ type: "text", text: "42" }]);
  await transport.terminateSession();
  expect(transport.sessionId).toBeUndefined();
  await client.close();
  expect(new Set(fetch.sent.map(({ port }) => port))).toEqual(new Set(ports));
}

/** Every framework's handlers over one store, serving one session in turn. */
async function serveAcross(...starts: Array<(mcp: McpSessionHandler) => Promise<number>>) {
  const store = new MemorySessionStore();
  cleanups.push(() => store.close());
  const ports: number[] = [];
  for (const start of starts) ports.push(await start(handlerOn(store)));
  await exercise(ports);
  expect(await store.count(Date.now())).toBe(0);
}

describe("frameworks", () => {
  it.each([
    ["an Express route with express.json()", startExpress],
    ["a Fastify route with reply.hijack()", startFastify],
    ["a Hono route through fetch, on @hono/node-server", startHono],
  ])("serves MCP from %s", (_name, start) => serveAcross(start));

  it("serves one session from Express, Fastify and Hono instances in turn", () =>
    serveAcross(startExpress, startFastify, startHono));
});
