import { describeSessionRelay, describeSessionStore } from "@mcp-sessions/session-testing";
import { MemorySessionStore } from "../src/index.js";

describeSessionStore("memory", () => new MemorySessionStore());
describeSessionRelay("memory", () => {
  const store = new MemorySessionStore();
  return { store, relay: store.relay };
});
