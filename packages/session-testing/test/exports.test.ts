import { expect, it } from "vitest";
import * as api from "../src/index.js";

it("exports describeSessionStore and nothing else at runtime", () => {
  expect(Object.keys(api)).toEqual(["describeSessionStore"]);
});
