import { createServer } from "node:net";

const HOST = "127.0.0.1";
const MAX_PORT = 65_535;
const ATTEMPTS = 50;

/**
 * Asks the OS for a free TCP port on 127.0.0.1 (listen on port 0, read it, close). With
 * `offsets`, the port is only returned when `port + offset` is free too, as a Redis Cluster
 * node needs for its bus port (`port + 10000`); otherwise it asks again.
 *
 * The port is free when this resolves, not reserved: a caller that binds it later must be ready
 * to find it taken and ask again.
 */
export async function findFreePort(offsets: readonly number[] = []): Promise<number> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = await listenAndClose(0);
    const others = offsets.map((offset) => port + offset);
    if (others.some((other) => other > MAX_PORT)) continue;
    const free = await Promise.all(others.map((other) => isPortFree(other)));
    if (free.every(Boolean)) return port;
  }
  throw new Error(
    `Found no free port on ${HOST} with ${offsets.map((o) => `port + ${o}`).join(", ")} free ` +
      `too, in ${ATTEMPTS} attempts`,
  );
}

/** Whether a listener can bind `port` on 127.0.0.1 right now. */
export async function isPortFree(port: number): Promise<boolean> {
  try {
    await listenAndClose(port);
    return true;
  } catch (error) {
    if (errorCode(error) === "EADDRINUSE" || errorCode(error) === "EACCES") return false;
    throw error;
  }
}

function listenAndClose(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: HOST, port, exclusive: true }, () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === "object") resolve(address.port);
        else reject(new Error(`Listener on ${HOST}:${port} reported no port`));
      });
    });
  });
}

function errorCode(error: unknown): unknown {
  return error instanceof Error && "code" in error ? error.code : undefined;
}
