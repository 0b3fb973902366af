import type { RedisTestServer } from "./types.js";

const DEFAULT_PORT = 6379;

/**
 * The server at `REDIS_URL`, used as it is: nothing is checked or changed on it, and `stop()`
 * does nothing, since this process did not start it.
 * @throws TypeError when the value is not a `redis://` or `rediss://` URL.
 */
export function serverFromRedisUrl(url: string): RedisTestServer {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new TypeError(
      "Expected `REDIS_URL` to be a URL such as redis://127.0.0.1:6379, got a value that is not a URL",
      { cause: error },
    );
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    throw new TypeError(
      `Expected \`REDIS_URL\` to start with redis:// or rediss://, got \`${parsed.protocol}//…\``,
    );
  }
  return Object.freeze({
    url,
    // URL keeps the brackets of an IPv6 host; a socket address has none.
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1") || "localhost",
    port: parsed.port === "" ? DEFAULT_PORT : Number(parsed.port),
    source: "REDIS_URL",
    stop: async () => {},
  });
}
