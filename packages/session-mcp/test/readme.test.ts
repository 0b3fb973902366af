import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterEach, describe, expect, it, vi } from "vitest";

const example = readFileSync(new URL("../examples/quick-start.ts", import.meta.url), "utf8");
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("README quick start", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it("quotes examples/quick-start.ts verbatim", () => {
    expect(readme).toContain(`\`\`\`ts\n${example}\`\`\``);
  });

  it("runs as written: serves a client, then shuts down on SIGTERM", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
      lines.push(args.join(" "));
    });
    vi.stubEnv("PORT", "0");
    const before = process.rawListeners("SIGTERM");
    await import("../examples/quick-start.js");
    const shutdown = process
      .rawListeners("SIGTERM")
      .filter((listener) => !before.includes(listener));
    expect(shutdown).toHaveLength(1);

    const url = await vi.waitFor(() => {
      const match = /^MCP server on (http:\/\/127\.0\.0\.1:\d+\/mcp)$/.exec(lines[0] ?? "");
      if (!match?.[1]) throw new Error("not listening yet");
      return new URL(match[1]);
    });
    const client = new Client({ name: "readme-test", version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(url);
    await client.connect(transport);
    const result = await client.callTool({ name: "add", arguments: { a: 2, b: 3 } });
    expect(result.content).toEqual([{ type: "text", text: "5" }]);
    await transport.terminateSession();
    await client.close();

    // What `kill -TERM` would run; the listener removes itself.
    (shutdown[0] as (signal: string) => void)("SIGTERM");
    await vi.waitFor(() => expect(lines).toContain("MCP server closed"));
    expect(process.rawListeners("SIGTERM")).toEqual(before);
    expect(await fetch(url).catch((error: unknown) => error)).toBeInstanceOf(TypeError);
  });
});
