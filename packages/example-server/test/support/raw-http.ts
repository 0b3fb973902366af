import { type IncomingHttpHeaders, request } from "node:http";
import { connect } from "node:net";

/** A TCP connection that writes HTTP by hand, to send a request only in part. */
export interface RawConnection {
  /** Writes `text` as it is. */
  write(text: string): void;
  /** Resolves with everything the server wrote once it closed the connection. */
  readonly closed: Promise<string>;
  /** Resolves with the first match of `pattern` in the server's reply so far, once there is one. */
  received(pattern: RegExp): Promise<RegExpExecArray>;
  destroy(): void;
}

/** The status line of a final answer: after any `100 Continue`. */
export const FINAL_STATUS = /HTTP\/1\.1 (?!100 )(\d{3}) /;

/** The head of a POST to `/mcp` on `port` that has yet to send its `length` bytes of body. */
export function postHead(port: number, length: number, headers = ""): string {
  return `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\n${headers}Content-Length: ${length}\r\n\r\n`;
}

/** Connects to 127.0.0.1:`port`, resolving once the connection is up. */
export function rawConnection(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let reply = "";
    const waiters = new Set<() => void>();
    socket.setEncoding("utf8").on("data", (chunk: string) => {
      reply += chunk;
      for (const check of [...waiters]) check();
    });
    const closed = new Promise<string>((settle) => socket.once("close", () => settle(reply)));
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      // A reset once the server gave up on the request is how some refusals end; `closed` says.
      socket.on("error", () => {});
      resolve({
        write: (text) => socket.write(text),
        closed,
        received: (pattern) =>
          new Promise((settle) => {
            const check = () => {
              const match = pattern.exec(reply);
              if (match === null) return;
              waiters.delete(check);
              settle(match);
            };
            waiters.add(check);
            check();
          }),
        destroy: () => socket.destroy(),
      });
    });
  });
}

/** An HTTP answer, its body parsed when it is JSON. */
export interface HttpReply {
  readonly status: number | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: unknown;
}

export interface HttpPostOptions {
  /** Sent exactly as given (node:http sends Host and Origin as they are, unlike `fetch`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The client's own address, such as `127.0.0.2`: every 127.x address reaches loopback. */
  readonly localAddress?: string;
}

/** POSTs `message` as JSON to `url`, as a Streamable HTTP client does, and reads the answer. */
export function httpPost(
  url: string,
  message: object,
  options: HttpPostOptions = {},
): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: "POST",
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...options.headers,
      },
    });
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => {
        const json = res.headers["content-type"]?.startsWith("application/json") === true;
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body: json && text !== "" ? JSON.parse(text) : text,
        });
      });
    });
    req.on("error", reject);
    req.end(JSON.stringify(message));
  });
}
