import { fileURLToPath } from "node:url";
import { afterEach, expect, it, vi } from "vitest";
import { type ServerProcess, startServerFleet, startServerProcess } from "../src/process/index.js";

const SCRIPT = fileURLToPath(new URL("./support/listening-server.mjs", import.meta.url));
const LISTENING =
  /^listening on (http:\/\/127\.0\.0\.1:(\d+)\/) \(greeting: (\w+), secret: (\w+)\)$/;

const started: ServerProcess[] = [];

afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.allSettled(started.splice(0).map((server) => server.kill()));
});

async function start(env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await startServerProcess({
    name: "test server",
    script: SCRIPT,
    listening: LISTENING,
    env,
    clearEnv: ["SECRET"],
  });
  started.push(server);
  return server;
}

it("resolves with the listening line's match once the server answers, and stops it with exit 0", async () => {
  const server = await start();
  const [, url = "", port = ""] = server.listening;
  expect(Number(port)).toBeGreaterThan(0);
  expect(await (await fetch(url)).text()).toBe("ok");
  expect(server.running()).toBe(true);

  await server.stop();
  expect(server.running()).toBe(false);
  expect(server.stderr()).toContain("SIGTERM received");
  await expect(server.stop()).resolves.toBeUndefined();
});

it("passes `env` and keeps the `clearEnv` variables of the test's environment out", async () => {
  vi.stubEnv("SECRET", "leaked");
  const server = await start({ GREETING: "hello" });
  expect(server.listening.slice(3)).toEqual(["hello", "none"]);
});

it("rejects, quoting stderr, when the process exits before listening", async () => {
  const failure = startServerProcess({
    name: "test server",
    script: SCRIPT,
    listening: LISTENING,
    env: { FAIL_AT_START: "3" },
  });
  await expect(failure).rejects.toThrow("test server did not start");
  await expect(failure).rejects.toHaveProperty(
    "cause.message",
    expect.stringMatching(/^exited \(3\) before listening; stderr:\ncannot start/),
  );
});

it("rejects when the script is missing", async () => {
  await expect(
    startServerProcess({ name: "test server", script: `${SCRIPT}.missing`, listening: LISTENING }),
  ).rejects.toThrow("is missing; build it first");
});

it("rejects stop() when the server exits other than 0 on SIGTERM", async () => {
  const server = await start({ EXIT_ON_SIGTERM: "4" });
  await expect(server.stop()).rejects.toThrow(/^test server exited with 4 on SIGTERM; stderr:\n/);
});

it("kills with SIGKILL; a later stop() only waits for the exit", async () => {
  const server = await start();
  await server.kill();
  expect(server.running()).toBe(false);
  await expect(server.stop()).resolves.toBeUndefined();
});

it("starts a fleet's instances together, in the order of `names`, and stops them together", async () => {
  const fleet = await startServerFleet({
    names: ["A", "B"],
    start: (name) => start({ GREETING: name }),
  });
  expect(fleet.instances.map((server) => server.listening[3])).toEqual(["A", "B"]);
  await fleet.stop();
  expect(fleet.instances.map((server) => server.running())).toEqual([false, false]);
  await expect(fleet.stop()).resolves.toBeUndefined();
});

it("stops the instances that started when another fails, and rejects with that failure", async () => {
  const others: ServerProcess[] = [];
  const fleet = startServerFleet({
    names: ["A", "B", "C"],
    start: async (name) => {
      if (name === "B") {
        return startServerProcess({
          name: "test server B",
          script: SCRIPT,
          listening: LISTENING,
          env: { FAIL_AT_START: "3" },
        });
      }
      const server = await start();
      others.push(server);
      return server;
    },
  });
  await expect(fleet).rejects.toThrow("test server B did not start");
  expect(others).toHaveLength(2);
  expect(others.map((server) => server.running())).toEqual([false, false]);
});

it("rejects a fleet's stop() once every instance is done, when one exits other than 0", async () => {
  const fleet = await startServerFleet({
    names: ["A", "B"],
    start: (name) => start(name === "A" ? { EXIT_ON_SIGTERM: "4" } : {}),
  });
  await expect(fleet.stop()).rejects.toThrow(/^test server exited with 4 on SIGTERM/);
  expect(fleet.instances.map((server) => server.running())).toEqual([false, false]);
});

it("refuses a fleet of no instances", async () => {
  await expect(startServerFleet({ names: [], start: () => start() })).rejects.toThrow(
    "Expected `names` to name at least one instance, got `[]`",
  );
});
