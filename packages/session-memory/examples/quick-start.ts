import { SessionManager } from "@mcp-sessions/session-core";
import { MemorySessionStore } from "@mcp-sessions/session-memory";

const store = new MemorySessionStore();
const sessions = new SessionManager({
  store,
  ttl: 30 * 60_000, // idle timeout: 30 minutes
  maxSessions: 10_000,
});
sessions.setExpirationHandler((id) => console.log(`session ${id} expired`));
sessions.on("ended", ({ id, reason }) => console.log(`session ${id} ended: ${reason}`));

const session = await sessions.create({ plan: "pro" }, { owner: "user-42" });
const mine = await sessions.touch(session.id, { owner: "user-42" });
const theirs = await sessions.touch(session.id, { owner: "user-7" });
console.log(mine?.metadata, theirs); // { plan: 'pro' } undefined

await sessions.cleanup(session.id); // "session … ended: destroyed"
await sessions.close();
await store.close(); // what you pass in, you close
