import { describeSessionStore } from "../src/index.js";
import { ReferenceSessionStore } from "./reference-session-store.js";

describeSessionStore("reference", () => new ReferenceSessionStore());
