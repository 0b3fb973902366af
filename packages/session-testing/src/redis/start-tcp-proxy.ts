import { connect, createServer, type Socket } from "node:net";
import type { TcpProxy } from "./types.js";

const HOST = "127.0.0.1";

/**
 * Starts a TCP proxy on a free port of 127.0.0.1 that forwards every connection to `target`.
 * Fault tests point the client under test at `proxy.url` and cut or refuse its connections,
 * while the server behind keeps running.
 *
 * Each accepted connection opens its own upstream connection; when either side closes or
 * fails, the other is destroyed too, so a client always sees what its upstream saw.
 *
 * @example
 * const proxy = await startTcpProxy({ host: redis.host, port: redis.port });
 * const client = new Redis(proxy.url);
 * proxy.cutConnections(); // the client sees "close" and reconnects through the proxy
 * client.disconnect();
 * await proxy.close();
 */
export async function startTcpProxy(target: {
  readonly host: string;
  readonly port: number;
}): Promise<TcpProxy> {
  const { host: targetHost, port: targetPort } = target;
  /** Every open socket, client and upstream alike; a socket leaves the set when it closes. */
  const sockets = new Set<Socket>();
  let paused = false;
  let closed: Promise<void> | undefined;

  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  };
  const cutConnections = (): void => {
    for (const socket of sockets) socket.destroy();
  };

  const server = createServer((client) => {
    if (paused || closed !== undefined) {
      client.destroy();
      return;
    }
    const upstream = connect({ host: targetHost, port: targetPort });
    track(client);
    track(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    // A failure on one side ends the pair: the error is the other side's signal, as a broken
    // network would give it, so it is not reported again here.
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.once("close", () => upstream.destroy());
    upstream.once("close", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: HOST, port: 0 }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address !== "object") {
    server.close();
    throw new Error("The TCP proxy's listener reported no port");
  }
  const { port } = address;

  return Object.freeze({
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    cutConnections,
    pause: () => {
      paused = true;
      cutConnections();
    },
    resume: () => {
      paused = false;
    },
    close: () => {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        cutConnections();
      });
      return closed;
    },
  });
}
