import { readFileSync } from "node:fs";
import { expect, it } from "vitest";

it("README quick start quotes session-memory's test/contract.test.ts verbatim", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const example = readFileSync(
    new URL("../../session-memory/test/contract.test.ts", import.meta.url),
    "utf8",
  );

  expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
});
