import { type SendLog, type SessionRecord, StoreClosedError } from "@mcp-sessions/session-core";
import { describeError, log, ownerMatches } from "@mcp-sessions/session-core/store";
import {
  WebStandardStreamableHTTPServerTransport,
  type WebStandardStreamableHTTPServerTransportOptions,
} from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { Fleet } from "./fleet.js";
import type { FleetTransport } from "./fleet-transport.js";
import { replayRequests } from "./initialize-params.js";

const LOGGER = "session-mcp/local-sessions";

/** The part of an `McpServer` (or low-level `Server`) the handler needs. */
export interface McpServerLike {
  connect(transport: Transport): Promise<void>;
  close(): Promise<void>;
}

/** Builds a fresh server for one session. */
export type ServerFactory = (session: SessionRecord) => McpServerLike | Promise<McpServerLike>;

/**
 * Transport options the handler passes through. It sets the session hooks itself, and the event
 * store: with `resumable`, the session store's log is the event store.
 */
export type TransportOptions = Omit<
  WebStandardStreamableHTTPServerTransportOptions,
  "sessionIdGenerator" | "onsessioninitialized" | "onsessionclosed" | "eventStore"
>;

/** One session live on this instance: its transport and server. */
export interface LocalSession {
  readonly id: string;
  /** The SDK's transport, for `handleRequest`. */
  readonly transport: WebStandardStreamableHTTPServerTransport;
}

interface Entry extends LocalSession {
  /** The server's side of `transport`, wrapped for the fleet: the server is connected to it. */
  readonly fleetTransport: FleetTransport;
  readonly server: McpServerLike;
  /** The session's owner, as the store had it when this instance opened the session. */
  readonly owner: string | undefined;
}

export interface LocalSessionsOptions {
  readonly createServer: ServerFactory;
  readonly transport: TransportOptions;
  readonly fleet: Fleet;
  readonly logger: SendLog;
}

/**
 * The transports and servers of the sessions live on this instance. A session made elsewhere is
 * adopted on first use: a fresh transport and server, brought up by replaying the stored
 * `initialize` through the public `handleRequest` (sdk-assumptions: ADOPTION_REPLAY).
 * Concurrent first requests share one adoption, and a failed adoption leaves nothing behind, so
 * the next request tries again. A live session's transport is attached to the fleet, which
 * hands it the client messages other instances receive for it.
 */
export class LocalSessions {
  readonly #options: LocalSessionsOptions;
  readonly #live = new Map<string, Entry>();
  readonly #opening = new Map<string, Promise<Entry>>();
  /** Set by `closeAll`: from then on nothing opens, so nothing outlives the handler. */
  #closed = false;

  constructor(options: LocalSessionsOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#live.size;
  }

  /** The ids of the sessions open on this instance now. */
  ids(): IterableIterator<string> {
    return this.#live.keys();
  }

  /** The local session, if this instance has it open now. */
  obtainIfLive(id: string): LocalSession | undefined {
    return this.#live.get(id);
  }

  /** A transport and server for a session this instance is initializing now. */
  start(session: SessionRecord): Promise<LocalSession> {
    return this.#open(session.id, () => this.#build(session));
  }

  /**
   * The local transport of a live session, adopting it first if it was made elsewhere. `request`
   * is the client's request that needs it: the replay goes to its URL and Host.
   */
  obtain(session: SessionRecord, request: Request): Promise<LocalSession> {
    const live = this.#live.get(session.id);
    if (live) return Promise.resolve(live);
    return this.#open(session.id, async () => {
      const entry = await this.#build(session);
      try {
        const { initialize, initialized } = replayRequests(request, session.id, session.metadata);
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
    // A session that ends while it is being adopted here is closed once the adoption settles;
    // otherwise the adoption would finish afterwards and keep a transport for an ended session.
    await this.#opening.get(id)?.catch(() => undefined);
    const entry = this.#live.get(id);
    if (!entry) return;
    this.#forget(entry);
    await this.#dispose(entry);
  }

  /**
   * Closes a session's local transport and server if `owner` may use the session. The store
   * answers "not found" alike for a session that is gone and for another owner's: only the
   * first may close the transport, or anyone who learns a session id could cut its owner's
   * streams.
   */
  async closeIfOwnedBy(id: string, owner: string | undefined): Promise<void> {
    const entry = this.#live.get(id);
    if (entry && ownerMatches(entry.owner, owner)) await this.close(id);
  }

  async closeAll(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled(this.#opening.values());
    await Promise.all([...this.#live.keys()].map((id) => this.close(id)));
  }

  #open(id: string, build: () => Promise<Entry>): Promise<Entry> {
    const pending = this.#opening.get(id);
    if (pending) return pending;
    // A request that was already past the store when the handler closed gets a 503.
    if (this.#closed) return Promise.reject(new StoreClosedError("McpSessionHandler"));
    const opening = build()
      .then((entry) => {
        this.#live.set(id, entry);
        this.#options.fleet.attach(id, entry.fleetTransport);
        return entry;
      })
      .finally(() => this.#opening.delete(id));
    this.#opening.set(id, opening);
    return opening;
  }

  async #build(session: SessionRecord): Promise<Entry> {
    const { fleet } = this.#options;
    const eventStore = fleet.eventStore(session.id);
    const transport = new WebStandardStreamableHTTPServerTransport({
      ...this.#options.transport,
      ...(eventStore ? { eventStore } : {}),
      sessionIdGenerator: () => session.id,
    });
    const fleetTransport = fleet.wrap(session.id, transport);
    const entry: Entry = {
      id: session.id,
      transport,
      fleetTransport,
      server: await this.#options.createServer(session),
      owner: session.owner,
    };
    // Set before connect: the SDK chains its own onclose after ours (sdk-assumptions:
    // ONCLOSE_CHAINED). A DELETE closes the transport this way (DELETE_CLOSES).
    fleetTransport.onclose = () => this.#forget(entry);
    await entry.server.connect(fleetTransport);
    return entry;
  }

  /** Drops a session from what is live here, unless another entry took its place since. */
  #forget(entry: Entry): void {
    if (this.#live.get(entry.id) !== entry) return;
    this.#live.delete(entry.id);
    this.#options.fleet.detach(entry.id, entry.fleetTransport);
  }

  async #dispose(entry: Entry): Promise<void> {
    entry.fleetTransport.failWaiting(
      "The session ended, or its server closed, before the client replied",
    );
    try {
      // Closing the server closes its transport and every stream of it (sdk-assumptions:
      // SERVER_CLOSE_CLOSES_TRANSPORT).
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
