import { randomBytes, randomUUID } from "node:crypto";
import { type LogEntry, SessionManager } from "@mcp-sessions/session-core";
import { startRedisCluster } from "@mcp-sessions/session-testing/redis";
import { Cluster, Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { RedisSessionStore } from "../../src/index.js";
import {
  ACL_USER,
  aclLog,
  readmeAclAddition,
  readmeAclRule,
  readmeAclVersionAdditions,
} from "../support/acl.js";
import { joinRecording } from "../support/relay.js";

const PASSWORD = randomBytes(16).toString("hex");
const HOUR = 3_600_000;
const WAIT = { timeout: 10_000, interval: 20 } as const;

const server = await startRedisCluster({ masters: 3 });
/** One admin connection per node: ACL rules and ACL LOG are each node's own. */
const nodes = server.nodes.map(({ host, port }) => new Redis({ host, port }));
const cleanups: (() => Promise<unknown>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await Promise.all(nodes.map((node) => node.quit()));
  await server.stop();
});

describe("the README's ACL rule on a Cluster", () => {
  it("runs two stores with the Cluster additions, with nothing refused on any node", async () => {
    const prefix = `acl-${randomUUID()}`;
    const rule = [
      ...readmeAclRule({ password: PASSWORD, prefix, db: 0 }),
      ...readmeAclAddition("&{<prefix>:*", prefix),
      ...readmeAclAddition("+spublish +ssubscribe +sunsubscribe"),
      ...readmeAclAddition("+cluster|slots +cluster|info"),
    ];
    for (const node of nodes) {
      const forVersion = await readmeAclVersionAdditions(node);
      expect(await node.call("ACL", "SETUSER", ACL_USER, ...rule, ...forVersion)).toBe("OK");
      await node.config("SET", "notify-keyspace-events", "Ex");
      await node.call("ACL", "LOG", "RESET");
    }
    const logs: LogEntry[] = [];
    const clients: Cluster[] = [];
    const open = () => {
      const client = new Cluster([...server.nodes], {
        redisOptions: { username: ACL_USER, password: PASSWORD, maxRetriesPerRequest: 1 },
      });
      const store = new RedisSessionStore({
        client,
        prefix,
        keyspaceEvents: "subscribe",
        logger: (entry) => void logs.push(entry),
      });
      const sessions = new SessionManager({ store, enabled: false, logger: () => {} });
      clients.push(client);
      cleanups.push(
        () => client.quit(),
        () => store.close(),
        () => sessions.close(),
      );
      return { store, sessions };
    };
    const a = open();
    const b = open();
    await Promise.all([a.store.ready(), b.store.ready()]);
    const endedOnB: string[] = [];
    b.sessions.on("ended", ({ id, reason }) => void endedOnB.push(`${reason}:${id}`));
    const expired: string[] = [];
    a.sessions.setExpirationHandler((id) => void expired.push(id));

    // Enough sessions that every master holds some.
    const created = await Promise.all(
      Array.from({ length: 30 }, (_, n) => a.sessions.create({ n }, { owner: "user-42" })),
    );
    for (const session of created) {
      expect(await b.sessions.touch(session.id, { owner: "user-42" })).toMatchObject({
        metadata: session.metadata,
      });
    }
    expect(await b.sessions.getActiveSessionCount()).toBe(created.length);
    expect(await a.sessions.cleanup(created[0]?.id as string)).toBe(true);
    await expect.poll(() => endedOnB, WAIT).toEqual([`destroyed:${created[0]?.id}`]);

    // Relay members on sharded channels, one per bucket.
    const onA = joinRecording(a.store);
    const onB = joinRecording(b.store);
    await Promise.all([onA.member.ready, onB.member.ready]);
    for (const session of created.slice(1)) {
      expect(await onA.member.send(onB.member.id, session.id, { n: 1 })).toBe(true);
      expect(await onB.member.hold(session.id, "stream-1")).toEqual([]);
      expect(
        await onA.member.publish(session.id, "stream-1", { n: 2 }, { store: false }),
      ).toBeUndefined();
    }
    await onA.member.broadcast(created[1]?.id as string, { n: 3 });
    await expect.poll(() => onB.messages.length, WAIT).toBe(created.length);
    await expect.poll(() => onB.events.length, WAIT).toBe(created.length - 1);
    await Promise.all([onA.member.leave(), onB.member.leave()]);

    const swept = await a.store.sweep(Date.now() + 2 * HOUR);
    expect(swept.claimed).toBe(created.length - 1);
    await expect.poll(() => expired.length, WAIT).toBe(created.length - 1);

    // Redis 7.0 leaves some refusals (CLUSTER INFO) out of ACL LOG; ioredis then never gets
    // past its ready check, so the clients' state tells as well.
    for (const client of clients) expect(client.status).toBe("ready");
    for (const node of nodes) expect(await aclLog(node)).toEqual([]);
    expect(logs.filter(({ level }) => level !== "debug")).toEqual([]);
  });
});
