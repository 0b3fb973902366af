import {
  describeError,
  log,
  type SendLog,
  type SessionRecord,
  unrefTimeout,
} from "@mcp-sessions/session-core";
import {
  WebStandardStreamableHTTPServerTransport,
  type WebStandardStreamableHTTPServerTransportOptions,
} from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { replayRequests } from "./initialize-params.js";

const LOGGER = "session-mcp/local-sessions";

/** The part of an `McpServer` (or low-level `Server`) the handler needs. */
export interface McpServerLike {
  connect(transport: Transport): Promise<void>;
  close(): Promise<void>;
}

/** Builds a fresh server for one session. */
export type ServerFactory = (session: SessionRecord) => McpServerLike | Promise<McpServerLike>;

/** Transport options the handler passes through; it sets the session hooks itself. */
export type TransportOptions = Omit<
  WebStandardStreamableHTTPServerTransportOptions,
  "sessionIdGenerator" | "onsessioninitialized" | "onsessionclosed"
>;

/** One session live on this instance: its transport and server, and its open streams. */
export interface LocalSession {
  readonly id: string;
  readonly transport: WebStandardStreamableHTTPServerTransport;
  /** Streaming responses (GET or POST SSE) now open; while any is, the session is not idle. */
  openStreams: number;
}

interface Entry extends LocalSession {
  readonly server: McpServerLike;
  keepAlive: NodeJS.Timeout | undefined;
}

export interface LocalSessionsOptions {
  readonly createServer: ServerFactory;
  readonly transport: TransportOptions;
  readonly logger: SendLog;
}

/**
 * The transports and servers of the sessions live on this instance. A session made elsewhere is
 * adopted on first use: a fresh transport and server, brought up by replaying the stored
 * `initialize` through the public `handleRequest`. Concurrent first requests share one adoption,
 * and a failed adoption leaves nothing behind, so the next request tries again.
 */
export class LocalSessions {
  readonly #options: LocalSessionsOptions;
  readonly #live = new Map<string, Entry>();
  readonly #opening = new Map<string, Promise<Entry>>();

  constructor(options: LocalSessionsOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#live.size;
  }

  /** The local session, if this instance has it open now. */
  obtainIfLive(id: string): LocalSession | undefined {
    return this.#live.get(id);
  }

  /** A transport and server for a session this instance is initializing now. */
  start(session: SessionRecord): Promise<LocalSession> {
    return this.#open(session.id, () => this.#build(session));
  }

  /** The local transport of a live session, adopting it first if it was made elsewhere. */
  obtain(session: SessionRecord, url: URL): Promise<LocalSession> {
    const live = this.#live.get(session.id);
    if (live) return Promise.resolve(live);
    return this.#open(session.id, async () => {
      const entry = await this.#build(session);
      try {
        const { initialize, initialized } = replayRequests(url, session.id, session.metadata);
        await expectOk("initialize", await entry.transport.handleRequest(initialize));
        await expectOk(
          "notifications/initialized",
          await entry.transport.handleRequest(initialized),
        );
      } catch (error) {
        await this.#dispose(entry);
        throw error;
      }
      return entry;
    });
  }

  /** Closes a session's local transport and server, if this instance has them. Idempotent. */
  async close(id: string): Promise<void> {
    const entry = this.#live.get(id);
    if (!entry) return;
    this.#live.delete(id);
    await this.#dispose(entry);
  }

  async closeAll(): Promise<void> {
    await Promise.allSettled(this.#opening.values());
    await Promise.all([...this.#live.keys()].map((id) => this.close(id)));
  }

  /**
   * Counts a streaming response as open until `closed` settles, and while any is open calls
   * `keepAlive` every `intervalMs`: a client that only listens is not idle.
   */
  trackStream(
    session: LocalSession,
    closed: Promise<void>,
    intervalMs: number,
    keepAlive: () => Promise<void>,
  ): void {
    const entry = session as Entry;
    entry.openStreams++;
    const arm = () => {
      entry.keepAlive = unrefTimeout(() => {
        keepAlive().finally(() => {
          if (entry.openStreams > 0 && this.#live.get(entry.id) === entry) arm();
        });
      }, intervalMs);
    };
    if (entry.openStreams === 1) arm();
    void closed.finally(() => {
      entry.openStreams--;
      if (entry.openStreams === 0) clearTimeout(entry.keepAlive);
    });
  }

  #open(id: string, build: () => Promise<Entry>): Promise<Entry> {
    const pending = this.#opening.get(id);
    if (pending) return pending;
    const opening = build()
      .then((entry) => {
        this.#live.set(id, entry);
        return entry;
      })
      .finally(() => this.#opening.delete(id));
    this.#opening.set(id, opening);
    return opening;
  }

  async #build(session: SessionRecord): Promise<Entry> {
    const transport = new WebStandardStreamableHTTPServerTransport({
      ...this.#options.transport,
      sessionIdGenerator: () => session.id,
    });
    const entry: Entry = {
      id: session.id,
      transport,
      server: await this.#options.createServer(session),
      openStreams: 0,
      keepAlive: undefined,
    };
    // Set before connect: the SDK chains its own onclose after ours.
    transport.onclose = () => {
      if (this.#live.get(session.id) === entry) this.#live.delete(session.id);
      clearTimeout(entry.keepAlive);
    };
    await entry.server.connect(transport);
    return entry;
  }

  async #dispose(entry: Entry): Promise<void> {
    clearTimeout(entry.keepAlive);
    try {
      // Closing the server closes its transport and every stream of it.
      await entry.server.close();
    } catch (error) {
      log(this.#options.logger, {
        level: "warning",
        logger: LOGGER,
        data: { message: "Closing a session's server failed", error: describeError(error) },
      });
    }
  }
}

async function expectOk(what: string, response: Response): Promise<void> {
  // Drain the body: for SSE the stream ends once the response to the replay is written.
  await response.text();
  if (!response.ok) throw new Error(`Replaying ${what} failed with HTTP ${response.status}`);
}
