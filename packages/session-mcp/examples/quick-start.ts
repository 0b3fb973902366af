import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createMcpSessionHandler } from "@mcp-sessions/session-mcp";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";

// One fresh McpServer per session, on whichever instance serves it.
function buildServer(): McpServer {
  const server = new McpServer({ name: "quick-start", version: "1.0.0" });
  server.registerTool(
    "add",
    { description: "Adds two numbers", inputSchema: { a: z.number(), b: z.number() } },
    async ({ a, b }) => ({ content: [{ type: "text", text: String(a + b) }] }),
  );
  return server;
}

// No `sessions` option: sessions live in this process, 30 minutes idle timeout.
const mcp = createMcpSessionHandler({ createServer: buildServer });

const http = createServer((req, res) => {
  if (req.url === "/mcp") void mcp(req, res);
  else res.writeHead(404).end();
});
http.listen(Number(process.env.PORT ?? 3000), "127.0.0.1", () => {
  const { port } = http.address() as AddressInfo;
  console.log(`MCP server on http://127.0.0.1:${port}/mcp`);
});

process.once("SIGTERM", async () => {
  await mcp.close(); // ends every open stream, closes every session's server here
  http.close(() => console.log("MCP server closed"));
});
