import { readdirSync, readFileSync } from "node:fs";
import { expect, it } from "vitest";
import * as http from "../src/http/index.js";
import * as api from "../src/index.js";
import * as serverProcess from "../src/process/index.js";
import * as redis from "../src/redis/index.js";
import * as wait from "../src/wait/index.js";

it("exports the two contract suites and nothing else at runtime", () => {
  expect(Object.keys(api).sort()).toEqual(["describeSessionRelay", "describeSessionStore"]);
});

it("exports the Redis provisioning from ./redis, and nothing else at runtime", () => {
  expect(Object.keys(redis).sort()).toEqual([
    "spawnRedisServer",
    "startRedis",
    "startRedisCluster",
    "startTcpProxy",
  ]);
});

it("exports the round-robin proxy from ./http, and nothing else at runtime", () => {
  expect(Object.keys(http)).toEqual(["startRoundRobinProxy"]);
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  expect(manifest.exports["./http"]).toEqual({
    types: "./dist/http/index.d.ts",
    default: "./dist/http/index.js",
  });
});

it("exports the server process and fleet from ./process, and nothing else at runtime", () => {
  expect(Object.keys(serverProcess).sort()).toEqual(["startServerFleet", "startServerProcess"]);
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  expect(manifest.exports["./process"]).toEqual({
    types: "./dist/process/index.d.ts",
    default: "./dist/process/index.js",
  });
});

it("exports the waiting helpers from ./wait, and nothing else at runtime", () => {
  expect(Object.keys(wait).sort()).toEqual(["deferred", "pollUntil", "within"]);
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  expect(manifest.exports["./wait"]).toEqual({
    types: "./dist/wait/index.d.ts",
    default: "./dist/wait/index.js",
  });
});

it("maps ./redis in the package's exports", () => {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  expect(manifest.exports["./redis"]).toEqual({
    types: "./dist/redis/index.d.ts",
    default: "./dist/redis/index.js",
  });
});

it("keeps vitest out of ./redis, ./process and ./wait, and imports testcontainers only lazily", () => {
  const sources = ["../src/redis/", "../src/process/", "../src/wait/"].flatMap((path) => {
    const dir = new URL(path, import.meta.url);
    return readdirSync(dir).map((file) => readFileSync(new URL(file, dir), "utf8"));
  });
  sources.push(readFileSync(new URL("../src/exit-guard.ts", import.meta.url), "utf8"));
  expect(sources.length).toBeGreaterThan(0);
  for (const source of sources) {
    expect(source).not.toMatch(/from "vitest|import\("vitest/);
    expect(source).not.toMatch(/from "testcontainers"/);
  }
});
