import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

const HOST = "127.0.0.1";
/** Headers about one connection, not the request: a proxy never forwards them (RFC 9110 7.6.1). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** An instance behind the proxy. */
export interface Upstream {
  readonly name: string;
  readonly port: number;
}

/** One request the proxy forwarded, in the order they arrived. */
export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  /** The `Mcp-Session-Id` header, if any. */
  readonly sessionId: string | undefined;
  /** The name of the instance that served it. */
  readonly upstream: string;
  /** The instance's status, once its response headers arrived. */
  status: number | undefined;
  /** Whether the instance's response has ended (all of its body passed through). */
  ended: boolean;
}

export interface RoundRobinProxy {
  /** The proxy's MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  /** Every request forwarded so far, oldest first. */
  readonly requests: readonly ProxiedRequest[];
  /** Stops listening, cuts open connections both ways and resolves once closed. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts a reverse proxy on 127.0.0.1 without stickiness, the load balancer of fleet tests: each incoming request goes to the next
 * upstream in turn, whatever its session. Bodies stream both ways as they come, so SSE responses
 * (progress notifications, the GET stream) pass through live; a client that goes away takes its
 * upstream request with it.
 */
export async function startRoundRobinProxy(
  upstreams: readonly Upstream[],
): Promise<RoundRobinProxy> {
  if (upstreams.length === 0) throw new TypeError("Expected at least one upstream");
  const agent = new Agent({ keepAlive: true });
  const requests: ProxiedRequest[] = [];
  let next = 0;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const upstream = upstreams[next++ % upstreams.length] as Upstream;
    const sessionId = req.headers["mcp-session-id"];
    const record: ProxiedRequest = {
      method: req.method ?? "GET",
      path: req.url ?? "/",
      sessionId: typeof sessionId === "string" ? sessionId : undefined,
      upstream: upstream.name,
      status: undefined,
      ended: false,
    };
    requests.push(record);

    const forward = request({
      host: HOST,
      port: upstream.port,
      method: record.method,
      path: record.path,
      headers: { ...endToEnd(req.headers), host: `${HOST}:${upstream.port}` },
      agent,
    });
    forward.on("response", (answer) => {
      record.status = answer.statusCode;
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers));
      // An SSE response may stay silent for long: the client gets its headers now.
      res.flushHeaders();
      answer.pipe(res);
      answer.on("end", () => {
        record.ended = true;
      });
      // The instance cut its response short: so does the proxy, rather than end it cleanly.
      answer.on("close", () => {
        if (!answer.complete) res.destroy();
      });
    });
    forward.on("error", () => {
      // The instance refused or dropped the connection: a gateway error, as any proxy answers.
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" }).end("Bad Gateway");
      else res.destroy();
    });
    res.on("close", () => {
      // The client went away before the response ended: stop the instance's work too.
      if (!res.writableFinished) forward.destroy();
    });
    req.pipe(forward);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${HOST}:${port}/mcp`,
    requests,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
      return closing;
    },
  };
}

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const kept: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name)) kept[name] = value;
  }
  return kept;
}
