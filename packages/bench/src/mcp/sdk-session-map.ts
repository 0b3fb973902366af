/**
 * The baseline server: the SDK's own documented pattern for Streamable HTTP with sessions (the
 * v1.x README, "With Session Management"), on `node:http` instead of Express. A process-local
 * `Map` of `StreamableHTTPServerTransport`s keyed by session id; an `initialize` without a session
 * header makes a transport and a server, every other request looks its transport up by the
 * `mcp-session-id` header. This is what every MCP server does today.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { progress } from "../harness.js";
import { buildAddServer } from "./fixtures.js";

/** The baseline's request listener, and how to close every session it holds. */
export interface SdkSessionMap {
  readonly listener: RequestListener;
  /** Sessions live now. */
  readonly size: number;
  /** Closes every session's server (and with it its transport and streams). */
  close(): Promise<void>;
}

/** A fresh baseline server with no sessions. */
export function createSdkSessionMap(): SdkSessionMap {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const servers = new Set<ReturnType<typeof buildAddServer>>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // Express's `express.json()` in the README; here the body is read the same way ours reads it.
    const body = req.method === "POST" ? await readJson(req) : undefined;
    const sessionId = req.headers["mcp-session-id"];
    let transport = typeof sessionId === "string" ? transports.get(sessionId) : undefined;
    if (transport === undefined) {
      if (req.method !== "POST" || sessionId !== undefined || !isInitializeRequest(body)) {
        badRequest(res);
        return;
      }
      const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          transports.set(id, created);
        },
      });
      const server = buildAddServer();
      servers.add(server);
      created.onclose = () => {
        if (created.sessionId !== undefined) transports.delete(created.sessionId);
        servers.delete(server);
      };
      await server.connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res, body);
  };

  return {
    listener: (req, res) => {
      handle(req, res).catch((error: unknown) => {
        // The load client counts the 500 as an error, which fails the group.
        progress(
          `  SDK baseline request failed: ${error instanceof Error ? error.message : String(error)}`,
        );
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    },
    get size() {
      return transports.size;
    },
    async close() {
      await Promise.allSettled([...servers].map((server) => server.close()));
    },
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return undefined;
  }
}

/** The README's answer to a request with no usable session. */
function badRequest(res: ServerResponse): void {
  res.writeHead(400, { "content-type": "application/json" });
  res.end(
    JSON.stringify({
      jsonrpc: "2.0",
      error: { code: -32000, message: "Bad Request: No valid session ID provided" },
      id: null,
    }),
  );
}
