import { describeSessionStore } from "@mcp-sessions/session-testing";
import { MemorySessionStore } from "../src/index.js";

describeSessionStore("memory", () => new MemorySessionStore());
