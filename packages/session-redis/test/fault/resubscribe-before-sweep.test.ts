import { Redis } from "ioredis";
import { afterEach, expect, it } from "vitest";
import { RedisSessionStore } from "../../src/index.js";
import { spawnWithAdmin } from "../support/spawned.js";

// After its subscribers reconnect, a store subscribes again before it sweeps: otherwise a key
// that expires between the sweep and the subscriber's return waits a whole interval. MONITOR
// shows the order in which Redis ran the commands.

/** Long beside a round trip, so a sweep that did not wait would surely go out first. */
const RECONNECT_DELAY_MS = 200;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it("subscribes again before it sweeps after its subscribers reconnect", async () => {
  const { server, admin } = await spawnWithAdmin((cleanup) => cleanups.push(cleanup));
  // The store's subscription connection is a duplicate of this client, so it reconnects by its
  // strategy: a call says it saw its connection drop.
  let dropsSeen = 0;
  const client = new Redis(server.url, {
    retryStrategy: () => {
      dropsSeen++;
      return RECONNECT_DELAY_MS;
    },
  });
  cleanups.push(async () => client.disconnect());
  const store = new RedisSessionStore({
    client,
    prefix: "resubscribe",
    // The sweep waits for the subscribers up to half of this: far more than they need.
    commandTimeoutMs: 20_000,
  });
  cleanups.push(() => store.close());
  await store.ready();
  const commandAddress = /addr=(\S+)/.exec(String(await client.client("INFO")))?.[1];

  const monitor = await new Redis(server.url).monitor();
  cleanups.push(async () => monitor.disconnect());
  const ran: { source: string; command: string }[] = [];
  monitor.on("monitor", (_time: string, args: string[], source: string) => {
    ran.push({ source, command: String(args[0]).toLowerCase() });
  });
  // Round trips on the monitored server show up in order: this one marks where the test begins.
  await admin.echo("mark");
  await expect.poll(() => ran.some(({ command }) => command === "echo")).toBe(true);

  // The one subscription connection (the store's channel, expired-key events) drops.
  expect(await admin.call("CLIENT", "KILL", "TYPE", "pubsub")).toBe(1);
  await expect.poll(() => dropsSeen).toBe(1);
  // It is now waiting to reconnect: a sweep that did not wait would go out first.
  await store.sweep(Date.now());
  await admin.echo("done");
  await expect.poll(() => ran.filter(({ command }) => command === "echo").length).toBe(2);

  const afterMark = ran.slice(ran.findIndex(({ command }) => command === "echo") + 1);
  // The sweep is the only thing the store's command connection sends meanwhile.
  const firstSweepCommand = afterMark.findIndex(({ source }) => source === commandAddress);
  const subscribes = afterMark.flatMap(({ command }, index) =>
    command === "subscribe" ? [index] : [],
  );
  expect(firstSweepCommand).toBeGreaterThan(-1);
  // One SUBSCRIBE names every channel again.
  expect(subscribes).toHaveLength(1);
  expect(subscribes.every((index) => index < firstSweepCommand)).toBe(true);
});
