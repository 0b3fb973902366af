import { SessionManager } from "@mcp-sessions/session-core";
import { RedisSessionStore } from "@mcp-sessions/session-redis";

const store = new RedisSessionStore({
  url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  prefix: "my-mcp-server",
});
await store.ready(); // notify-keyspace-events checked, subscriptions live

const sessions = new SessionManager({ store, ttl: 30 * 60_000 });
sessions.setExpirationHandler((id) => console.log(`session ${id} expired`)); // once per fleet
sessions.on("ended", ({ id, reason }) => console.log(`session ${id} ended: ${reason}`));

const session = await sessions.create({ plan: "pro" }, { owner: "user-42" });
const found = await sessions.get(session.id, { owner: "user-42" });
console.log(found?.metadata); // { plan: 'pro' }, on any instance sharing this Redis and prefix

await sessions.cleanup(session.id); // "session … ended: destroyed", on every instance
await sessions.close();
await store.close(); // what you pass in, you close: this store closes the connections it made
