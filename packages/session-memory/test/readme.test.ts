import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";

const example = readFileSync(new URL("../examples/quick-start.ts", import.meta.url), "utf8");

describe("README quick start", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it.each([
    ["session-memory", "../README.md"],
    ["session-core", "../../session-core/README.md"],
  ])("%s README quotes examples/quick-start.ts verbatim", (_name, path) => {
    const readme = readFileSync(new URL(path, import.meta.url), "utf8");
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
  });

  it("runs as written", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      lines.push(args.map((arg) => JSON.stringify(arg) ?? String(arg)).join(" "));
    });
    vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    await import("../examples/quick-start.js");
    expect(lines[0]).toBe('{"plan":"pro"} undefined');
    expect(lines[1]).toMatch(/^"session [0-9a-f-]{36} ended: destroyed"$/);
  });
});
