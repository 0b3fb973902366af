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

it("README Redis example quotes test/redis-quick-start.test.ts, importing the package", () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  const example = readFileSync(new URL("./redis-quick-start.test.ts", import.meta.url), "utf8");

  expect(example).toContain('"../src/redis/index.js"');
  const published = example.replace(
    '"../src/redis/index.js"',
    '"@mcp-sessions/session-testing/redis"',
  );
  expect(readme).toContain(`\`\`\`ts\n${published}\`\`\``);
});
