/**
 * A small round-robin HTTP proxy, the load balancer in front of a fleet: every request goes to
 * the next target in turn, with no stickiness. Bodies stream both ways, so SSE responses stay
 * open as long as the target keeps them open, and a client that goes away closes the request to
 * the target.
 */
import { Agent, type IncomingHttpHeaders, request } from "node:http";
import { progress } from "../harness.js";
import { type Listening, listen } from "./fixtures.js";

/** Headers that describe one connection, not the message; never forwarded. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

export interface RoundRobinProxy extends Listening {
  /** Requests forwarded to each target so far, in the order of the targets. */
  readonly forwarded: readonly number[];
}

/** Starts a proxy on 127.0.0.1 that sends request n to `targets[n % targets.length]`. */
export async function startRoundRobinProxy(targets: readonly URL[]): Promise<RoundRobinProxy> {
  if (targets.length === 0) throw new RangeError("a proxy needs at least one target");
  const agent = new Agent({ keepAlive: true });
  const forwarded = targets.map(() => 0);
  let next = 0;
  const listening = await listen((req, res) => {
    const index = next++ % targets.length;
    forwarded[index] = (forwarded[index] as number) + 1;
    const target = targets[index] as URL;
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: endToEnd(req.headers),
        agent,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, endToEnd(upstreamRes.headers));
        upstreamRes.on("error", () => res.destroy());
        upstreamRes.pipe(res);
      },
    );
    let clientGone = false;
    upstream.on("error", (error) => {
      if (clientGone) return; // we destroyed it ourselves, below
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // The client sees a 502 and counts an error, which fails the group.
      progress(`  proxy: request to ${target.host} failed: ${error.message}`);
      res.writeHead(502).end();
    });
    // A client that leaves (a closed GET stream) must close the target's side too.
    res.on("close", () => {
      if (res.writableFinished) return;
      clientGone = true;
      upstream.destroy();
    });
    req.pipe(upstream);
  });
  return {
    ...listening,
    forwarded,
    async close() {
      await listening.close();
      agent.destroy();
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
