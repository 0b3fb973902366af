import { connect } from "node:net";

/** A TCP address, or the path of a Unix socket. */
export type RedisAddress =
  | { readonly host: string; readonly port: number }
  | { readonly path: string };

/**
 * Sends one command to a Redis server on a connection of its own and resolves with the reply as
 * a string: a simple string, an integer or a bulk string (empty for a null bulk string). A
 * Redis error reply rejects with its text. Enough for PING and CLUSTER INFO; arrays and RESP3
 * replies are not parsed, since the connection never sends HELLO.
 *
 * This keeps provisioning free of a Redis client library: tests bring their own.
 */
export function sendRedisCommand(
  address: RedisAddress,
  args: readonly string[],
  timeoutMs: number,
): Promise<string> {
  const where = "path" in address ? address.path : `${address.host}:${address.port}`;
  return new Promise((resolve, reject) => {
    const socket = connect(address);
    let received = Buffer.alloc(0);
    const finish = (error: Error | undefined, reply?: string): void => {
      clearTimeout(timer);
      socket.destroy();
      if (error === undefined) resolve(reply ?? "");
      else reject(error);
    };
    const timer = setTimeout(() => {
      finish(new Error(`No reply to ${args[0]} from ${where} within ${timeoutMs} ms`));
    }, timeoutMs);

    socket.once("error", (error) => finish(error));
    socket.once("close", () => finish(new Error(`${where} closed before replying`)));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const reply = parseReply(received);
      if (reply.kind === "incomplete") return;
      if (reply.kind === "error") finish(new Error(reply.text));
      else finish(undefined, reply.text);
    });
    socket.write(encodeCommand(args));
  });
}

type Reply = { kind: "incomplete" } | { kind: "value" | "error"; text: string };

function encodeCommand(args: readonly string[]): string {
  const parts = args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
  return `*${args.length}\r\n${parts.join("")}`;
}

function parseReply(buffer: Buffer): Reply {
  const lineEnd = buffer.indexOf("\r\n");
  if (lineEnd < 0) return { kind: "incomplete" };
  const type = String.fromCharCode(buffer[0] ?? 0);
  const line = buffer.toString("utf8", 1, lineEnd);
  switch (type) {
    case "+":
    case ":":
      return { kind: "value", text: line };
    case "-":
      return { kind: "error", text: line };
    case "$": {
      const length = Number(line);
      if (length < 0) return { kind: "value", text: "" };
      const start = lineEnd + 2;
      if (buffer.length < start + length + 2) return { kind: "incomplete" };
      return { kind: "value", text: buffer.toString("utf8", start, start + length) };
    }
    default:
      return { kind: "error", text: `Unexpected reply type ${JSON.stringify(type)}` };
  }
}
