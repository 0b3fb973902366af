import type { IncomingMessage, ServerResponse } from "node:http";

/** A web `Request` with the Node request's method, URL and headers; the body travels parsed. */
export function toWebRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.set(name, value);
  }
  return new Request(requestUrl(req), { method: req.method ?? "GET", headers, signal });
}

/**
 * The request's URL. A Host header or target that is no valid URL (`Host: [x`) falls back to
 * `localhost` instead of failing the request: the header itself still reaches the transport
 * unchanged, for its `allowedHosts` check.
 */
function requestUrl(req: IncomingMessage): URL {
  const path = req.url ?? "/";
  for (const base of [`http://${req.headers.host ?? "localhost"}`, "http://localhost"]) {
    if (URL.canParse(path, base)) return new URL(path, base);
  }
  return new URL("http://localhost/");
}

/**
 * Writes a web `Response` to a Node response, streaming its body (SSE stays open as long as the
 * body does). Resolves when the body ended or the client went away; a client that disconnects
 * cancels the body, which is how the SDK learns a stream closed (sdk-assumptions:
 * ONE_STANDALONE_STREAM). To a client already gone
 * nothing is written: the body is cancelled at once.
 */
export async function writeWebResponse(res: ServerResponse, response: Response): Promise<void> {
  if (res.destroyed) {
    // A body whose source fails to cancel is over all the same, and there is nobody to tell.
    await response.body?.cancel().catch(() => {});
    return;
  }
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  res.writeHead(response.status, headers);
  if (response.body === null) {
    res.end();
    return;
  }
  // Node holds the headers until the first body write; an SSE stream may have nothing to say for
  // a while (the GET stream until a notification), and its client waits for the 200 meanwhile.
  if (response.headers.get("content-type")?.startsWith("text/event-stream")) res.flushHeaders();
  const reader = response.body.getReader();
  const cancel = () => {
    reader.cancel().catch(() => {});
  };
  res.once("close", cancel);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // A destroyed response never drains, and its "close" has already been emitted.
      if (!res.write(value) && !res.destroyed) {
        await new Promise<void>((resolve) => {
          const resume = () => {
            res.off("drain", resume);
            res.off("close", resume);
            resolve();
          };
          res.once("drain", resume);
          res.once("close", resume);
        });
      }
      if (res.destroyed) break;
    }
  } catch {
    // The body errored or was cancelled because the client left; either way the stream is over.
  } finally {
    res.off("close", cancel);
    if (!res.writableEnded) res.end();
  }
}
