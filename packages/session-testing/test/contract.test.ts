import { describeSessionRelay, describeSessionStore } from "../src/index.js";
import { ReferenceSessionStore } from "./reference-session-store.js";

describeSessionStore("reference", () => new ReferenceSessionStore());
describeSessionRelay("reference", () => {
  const store = new ReferenceSessionStore();
  return { store, relay: store.relay };
});
