import {
  SessionManager,
  type SessionManagerOptions,
  type SessionRecord,
  type SessionRelay,
  type SessionStore,
  silentSendLog,
} from "@mcp-sessions/session-core";
import { MemorySessionStore } from "@mcp-sessions/session-memory";
import { Client, type ClientOptions } from "@modelcontextprotocol/sdk/client/index.js";
import {
  StreamableHTTPClientTransport,
  type StreamableHTTPReconnectionOptions,
} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Implementation } from "@modelcontextprotocol/sdk/types.js";
import {
  createMcpSessionHandler,
  type McpServerLike,
  type McpSessionHandler,
  type McpSessionHandlerOptions,
} from "../../src/index.js";
import { type Listening, listen } from "./http.js";
import { buildTestServer, Rendezvous } from "./test-server.js";

/** One instance of the fleet: its own manager and handler, on its own port. */
export interface Instance {
  readonly name: string;
  readonly sessions: SessionManager;
  readonly handler: McpSessionHandler;
  readonly http: Listening;
  readonly url: URL;
  /** The session id of every `createServer` call on this instance, failed ones included. */
  readonly created: string[];
  /** The session id of every server on this instance whose transport has closed. */
  readonly closed: string[];
  /** What the tools on this instance reported, in order: "wait-started", "wait-aborted", … */
  readonly toolEvents: string[];
}

export interface HandlerFleetOptions {
  /** Options of every instance's manager (each gets its own manager over the shared store). */
  readonly manager?: Omit<SessionManagerOptions, "store">;
  /** Handler options of every instance; a function gets every instance's URL first. */
  readonly handler?: HandlerOptions | ((urls: readonly URL[]) => HandlerOptions);
  /**
   * The one store every instance shares, with the relay made for it; the caller closes it.
   * @default a new MemorySessionStore, closed by the fleet's `close()`
   */
  readonly store?: SessionStore & { readonly relay: SessionRelay };
  /**
   * Runs at the start of every `createServer` call, before the server is built: throw to make
   * the call fail, or await to hold it.
   */
  readonly beforeCreateServer?: (instance: string, session: SessionRecord) => unknown;
  /** How many instances. @default 2 */
  readonly size?: number;
}

type HandlerOptions = Pick<
  McpSessionHandlerOptions,
  "authenticate" | "transport" | "logger" | "resumable"
>;

export interface HandlerFleet {
  readonly store: SessionStore;
  readonly instances: readonly Instance[];
  readonly a: Instance;
  readonly b: Instance;
  readonly rendezvous: Rendezvous;
  /** Closes every handler and its HTTP server, then every manager, then a store it made. */
  close(): Promise<void>;
}

/**
 * Handler instances in one process, as a fleet of processes would have them: each has its own
 * `SessionManager` and handler over one shared `MemorySessionStore`, which delivers `ended` to
 * every manager, as Redis does across processes.
 */
export async function startHandlerFleet(options: HandlerFleetOptions = {}): Promise<HandlerFleet> {
  const store = options.store ?? new MemorySessionStore({ logger: silentSendLog });
  const rendezvous = new Rendezvous();
  const instances: Instance[] = [];
  const names = ["A", "B", "C"].slice(0, options.size ?? 2);
  // Listen first, so handler options may name the instances' own URLs.
  const handlers = new Map<string, McpSessionHandler>();
  const servers = await Promise.all(
    names.map((name) => listen((req, res) => void handlers.get(name)?.(req, res))),
  );
  const handlerOptions =
    typeof options.handler === "function"
      ? options.handler(servers.map((server) => server.url))
      : options.handler;
  for (const [index, name] of names.entries()) {
    const sessions = new SessionManager({ logger: silentSendLog, ...options.manager, store });
    const created: string[] = [];
    const closed: string[] = [];
    const toolEvents: string[] = [];
    const hooks = {
      waitStarted: () => toolEvents.push("wait-started"),
      waitAborted: () => toolEvents.push("wait-aborted"),
      clientRequestFailed: (message: string) =>
        toolEvents.push(`client-request-failed: ${message}`),
    };
    const createServer = async (session: SessionRecord): Promise<McpServerLike> => {
      created.push(session.id);
      await options.beforeCreateServer?.(name, session);
      const server = buildTestServer(rendezvous, hooks);
      server.server.onclose = () => closed.push(session.id);
      return server;
    };
    const handler = createMcpSessionHandler({
      logger: silentSendLog,
      ...handlerOptions,
      sessions,
      relay: store.relay,
      createServer,
    });
    handlers.set(name, handler);
    // Replies and stream events routed to this instance arrive from now on.
    await handler.ready();
    const http = servers[index] as Listening;
    instances.push({ name, sessions, handler, http, url: http.url, created, closed, toolEvents });
  }
  const [a, b] = instances as [Instance, Instance];
  return {
    store,
    instances,
    a,
    b: b ?? a,
    rendezvous,
    async close() {
      for (const instance of instances) {
        await instance.handler.close();
        await instance.http.close();
      }
      for (const instance of instances) await instance.sessions.close();
      if (options.store === undefined) await store.close();
    },
  };
}

export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

export interface RoutedFetch extends FetchLike {
  /** Every request that went out, in order, with the status it got back. */
  readonly sent: SentRequest[];
}

export interface SentRequest {
  readonly method: string;
  readonly port: number;
  /** The JSON-RPC method of a POST, or "response" for a client's reply. */
  readonly rpc?: string;
  readonly lastEventId?: string;
  status?: number;
}

/**
 * A client `fetch` that sends each request to the port `pick()` returns: the load balancer of
 * the fleet. GET (the standalone SSE stream) is answered 405 here unless `standaloneStream`,
 * because an open stream keeps its session alive and would hide expiry.
 */
export function routedFetch(
  pick: (method: string) => number,
  options: { standaloneStream?: boolean } = {},
): RoutedFetch {
  const sent: RoutedFetch["sent"] = [];
  const routed = async (url: string | URL, init?: RequestInit) => {
    const method = init?.method ?? "GET";
    if (method === "GET" && options.standaloneStream !== true) {
      return new Response(null, { status: 405 });
    }
    const target = new URL(String(url));
    const port = pick(method);
    target.port = String(port);
    const lastEventId = new Headers(init?.headers).get("last-event-id") ?? undefined;
    const entry: SentRequest = {
      method,
      port,
      ...rpcOf(init?.body),
      ...(lastEventId === undefined ? {} : { lastEventId }),
    };
    sent.push(entry);
    const response = await fetch(target, init);
    entry.status = response.status;
    return response;
  };
  return Object.assign(routed, { sent });
}

function rpcOf(body: unknown): { rpc?: string } {
  if (typeof body !== "string") return {};
  const message = JSON.parse(body) as { method?: string };
  return { rpc: message.method ?? "response" };
}

/** Round robin over `instances`, one request each. */
export function alternate(...instances: Instance[]): () => number {
  let next = 0;
  return () => {
    const instance = instances[next++ % instances.length] as Instance;
    return instance.http.port;
  };
}

export interface ConnectedClient {
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
  readonly fetch: RoutedFetch;
}

/** The SDK's own `Client` over `StreamableHTTPClientTransport`, connected through `fetch`. */
export async function connectClient(
  url: URL,
  fetch: RoutedFetch,
  options: {
    clientInfo?: Implementation;
    capabilities?: ClientOptions["capabilities"];
    headers?: Record<string, string>;
    reconnection?: StreamableHTTPReconnectionOptions;
    /** Runs after the client exists and before it connects: register request handlers here. */
    prepare?: (client: Client) => void;
  } = {},
): Promise<ConnectedClient> {
  const client = new Client(options.clientInfo ?? { name: "test-client", version: "9.9.9" }, {
    capabilities: options.capabilities ?? {},
  });
  const transport = new StreamableHTTPClientTransport(url, {
    fetch,
    ...(options.headers === undefined ? {} : { requestInit: { headers: options.headers } }),
    ...(options.reconnection === undefined ? {} : { reconnectionOptions: options.reconnection }),
  });
  options.prepare?.(client);
  await client.connect(transport);
  return { client, transport, fetch };
}
