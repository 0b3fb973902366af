import type { IncomingHttpHeaders } from "node:http";

/** Host names a loopback-bound server answers to. */
export const LOOPBACK_HOSTNAMES: readonly string[] = Object.freeze([
  "localhost",
  "127.0.0.1",
  "[::1]",
]);

/**
 * The host names (no port) a server bound to `host` accepts in Host and Origin: only loopback
 * names when it is bound to loopback, so a web page cannot reach it through DNS rebinding, and
 * `undefined` (any) otherwise, where authentication has to protect it instead.
 */
export function allowedHostnamesFor(host: string): readonly string[] | undefined {
  const loopback =
    host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  if (!loopback) return undefined;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return Object.freeze([...new Set([...LOOPBACK_HOSTNAMES, urlHost.toLowerCase()])]);
}

/**
 * `"Host"` or `"Origin"` when that header names a host outside `allowed`, whatever the port:
 * behind a proxy, Host names the instance's port and Origin the proxy's (the SDK's
 * `allowedHosts` compares ports, which a fleet cannot use). Origin is checked too because a
 * proxy in front may rewrite Host to its upstream's (nginx does by default), while the page's
 * Origin still names the attacker's site. A request without Origin is not from a browser page,
 * so only its Host is checked. `undefined` when the request may pass.
 */
export function refusedHeader(
  allowed: readonly string[] | undefined,
  headers: IncomingHttpHeaders,
): "Host" | "Origin" | undefined {
  if (allowed === undefined) return undefined;
  if (!allowed.includes(hostnameOf(headers.host))) return "Host";
  const { origin } = headers;
  if (origin === undefined) return undefined;
  // `Origin: null` (a sandboxed page, a file) and garbage parse to no host: refused.
  const hostname = URL.canParse(origin) ? new URL(origin).hostname : "";
  return allowed.includes(hostname) ? undefined : "Origin";
}

/** The host name of a Host header, lower-cased, without its port: `[::1]:3000` → `[::1]`. */
function hostnameOf(host: string | undefined): string {
  if (host === undefined) return "";
  const lower = host.toLowerCase();
  if (lower.startsWith("[")) return lower.slice(0, lower.indexOf("]") + 1);
  return lower.split(":", 1)[0] ?? "";
}
