import { randomUUID } from "node:crypto";
import { silentSendLog } from "@mcp-sessions/session-core";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { RedisSessionStore } from "../src/index.js";
import { joinRecording, sessionRecord } from "./support/relay.js";
import { spawnWithAdmin } from "./support/spawned.js";

// The README's "Connections": standalone, a store and its relay open two connections at most,
// one for commands and one for every subscription. Counted with CLIENT LIST on a server of the
// test's own, without the test's own connection.

const WAIT = { timeout: 15_000, interval: 50 } as const;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Every connection the server has, but `admin`'s, as `{ name, sub }`, by name. */
async function connections(admin: Redis): Promise<{ name: string; sub: number }[]> {
  const own = String(await admin.client("ID"));
  return String(await admin.client("LIST"))
    .trim()
    .split("\n")
    .map((line) => new Map(line.split(" ").map((field) => field.split("=", 2) as [string, string])))
    .filter((fields) => fields.get("id") !== own)
    .map((fields) => ({ name: fields.get("name") ?? "", sub: Number(fields.get("sub")) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function openWithMember(options: { url: string } | { client: Redis }, prefix: string) {
  const store = new RedisSessionStore({ ...options, prefix, logger: silentSendLog });
  cleanups.push(() => store.close());
  const { member } = joinRecording(store);
  await Promise.all([store.ready(), member.ready]);
  await store.create(sessionRecord());
  return store;
}

describe("connections on a standalone Redis", () => {
  it("a store that connects by itself, with a relay member, opens two: commands and subscriptions", async () => {
    const { server, admin } = await spawnWithAdmin((cleanup) => cleanups.push(cleanup));
    const prefix = `t-${randomUUID()}`;

    const store = await openWithMember({ url: server.url }, prefix);

    const opened = await connections(admin);
    expect(opened.length).toBeLessThanOrEqual(2);
    // The store's channel, expired-key events, the relay's broadcast and the member's channel.
    expect(opened).toEqual([
      { name: `${prefix}:commands`, sub: 0 },
      { name: `${prefix}:subscriber`, sub: 4 },
    ]);

    await store.close();
    await expect.poll(() => connections(admin), WAIT).toEqual([]);
  });

  it("a store on your client opens one more, for subscriptions, and leaves yours open", async () => {
    const { server, admin } = await spawnWithAdmin((cleanup) => cleanups.push(cleanup));
    const prefix = `t-${randomUUID()}`;
    const client = new Redis(server.url, { connectionName: "app" });
    cleanups.push(async () => client.disconnect());

    const store = await openWithMember({ client }, prefix);

    expect(await connections(admin)).toEqual([
      { name: "app", sub: 0 },
      { name: `${prefix}:subscriber`, sub: 4 },
    ]);

    await store.close();
    await expect.poll(() => connections(admin), WAIT).toEqual([{ name: "app", sub: 0 }]);
  });

  it("two stores on one client share it, and each opens its own subscription connection", async () => {
    const { server, admin } = await spawnWithAdmin((cleanup) => cleanups.push(cleanup));
    const client = new Redis(server.url, { connectionName: "app" });
    cleanups.push(async () => client.disconnect());

    await openWithMember({ client }, "first");
    await openWithMember({ client }, "second");

    expect(await connections(admin)).toEqual([
      { name: "app", sub: 0 },
      { name: "first:subscriber", sub: 4 },
      { name: "second:subscriber", sub: 4 },
    ]);
  });
});
