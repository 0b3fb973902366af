import { access } from "node:fs/promises";
import { request } from "node:http";
import { homedir } from "node:os";
import { join } from "node:path";

const PING_TIMEOUT_MS = 1_000;

/** Whether a Docker engine answered, and where it was looked for. */
export type DockerEngineProbe =
  | { readonly answered: true; readonly endpoint: string }
  | { readonly answered: false; readonly tried: readonly string[] };

type Endpoint =
  | { readonly label: string; readonly socketPath: string }
  | { readonly label: string; readonly host: string; readonly port: number };

/**
 * Asks the Docker engine whether it is there, with `GET /_ping` (1 s timeout), rather than
 * looking for the `docker` CLI, which is often installed without an engine. It asks at
 * `DOCKER_HOST` when that is set (`unix://` or `tcp://`), and otherwise at the sockets that
 * testcontainers also tries: `/var/run/docker.sock`, then the rootless and Docker Desktop ones.
 * Any HTTP reply counts as an answer (a TLS engine answers plain HTTP with 400); `ssh://` and
 * `npipe://` hosts are not probed.
 */
export async function probeDockerEngine(): Promise<DockerEngineProbe> {
  const endpoints = dockerEndpoints();
  for (const endpoint of endpoints) {
    if (await answersPing(endpoint)) return { answered: true, endpoint: endpoint.label };
  }
  return { answered: false, tried: endpoints.map((endpoint) => endpoint.label) };
}

function dockerEndpoints(): Endpoint[] {
  const dockerHost = process.env.DOCKER_HOST;
  if (dockerHost !== undefined && dockerHost !== "") {
    const endpoint = parseDockerHost(dockerHost);
    return endpoint === undefined ? [] : [endpoint];
  }
  const sockets = ["/var/run/docker.sock"];
  const runtimeDir = process.env.XDG_RUNTIME_DIR;
  if (runtimeDir !== undefined && runtimeDir !== "") sockets.push(join(runtimeDir, "docker.sock"));
  const home = homedir();
  sockets.push(join(home, ".docker", "run", "docker.sock"));
  sockets.push(join(home, ".docker", "desktop", "docker.sock"));
  return sockets.map((socketPath) => ({ label: `unix://${socketPath}`, socketPath }));
}

function parseDockerHost(dockerHost: string): Endpoint | undefined {
  let url: URL;
  try {
    url = new URL(dockerHost);
  } catch {
    // Not a URL: nothing to probe; testcontainers would reject it too.
    return undefined;
  }
  if (url.protocol === "unix:") return { label: dockerHost, socketPath: url.pathname };
  if (url.protocol === "tcp:" || url.protocol === "http:") {
    return { label: dockerHost, host: url.hostname, port: Number(url.port || 2375) };
  }
  return undefined;
}

async function answersPing(endpoint: Endpoint): Promise<boolean> {
  if ("socketPath" in endpoint) {
    try {
      await access(endpoint.socketPath);
    } catch {
      // No socket file: no engine here, and no need to wait for a connection error.
      return false;
    }
  }
  return new Promise((resolve) => {
    const where =
      "socketPath" in endpoint
        ? { socketPath: endpoint.socketPath }
        : { host: endpoint.host, port: endpoint.port };
    const req = request({ ...where, path: "/_ping", method: "GET", agent: false }, (res) => {
      res.resume();
      clearTimeout(timer);
      req.destroy();
      resolve(true);
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve(false);
    }, PING_TIMEOUT_MS);
    // Refused, reset or timed out: the engine did not answer, which is what is being asked.
    req.once("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
    req.end();
  });
}
