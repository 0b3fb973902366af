/**
 * A message as it crosses the relay: a plain JSON object. The relay never looks inside and never
 * changes it; a relay that leaves the process serialises it with `JSON.stringify`.
 */
export type RelayMessage = Readonly<Record<string, unknown>>;

/** One event of a session's stream, as `publish` delivered or `hold` replayed it. */
export interface StreamEvent {
  /**
   * Where the event sits in the session's event log: present when it was stored, absent when it
   * was only delivered. Positions are opaque, unique per session, and never contain ".".
   */
  readonly position?: string;
  readonly message: RelayMessage;
}

/** Receives what the fleet addresses to one member. Called synchronously; must not throw. */
export interface RelayListener {
  /** A message `send` addressed to this member, or one another member `broadcast`. */
  message(sessionId: string, message: RelayMessage): void;
  /** An event `publish`ed to a stream this member holds, in the order the log has them. */
  event(sessionId: string, streamId: string, event: StreamEvent): void;
}

export interface PublishOptions {
  /** Append the event to the session's log, so a client that reconnects can have it replayed. */
  readonly store: boolean;
}

export interface HoldOptions {
  /**
   * Replay the stored events of the stream that follow this position. Absent: replay nothing.
   */
  readonly after?: string;
}

/**
 * One instance's membership in the fleet: its own address, and what it can do with the streams
 * and members of a session. Everything crosses the backend in one round trip, without polling.
 */
export interface RelayMember {
  /** This member's address: unique in the fleet, visible ASCII without ".". */
  readonly id: string;
  /**
   * Resolves once messages addressed to this member reach it. A backend that is down at first
   * delays it; the member keeps trying until `leave`, and this never rejects.
   */
  readonly ready: Promise<void>;
  /**
   * Delivers `message` to member `to`. Resolves `false` when no member `to` listens: it left, or
   * its process died. The session's owner was checked by the caller.
   */
  send(to: string, sessionId: string, message: RelayMessage): Promise<boolean>;
  /** Delivers `message` to every other member. */
  broadcast(sessionId: string, message: RelayMessage): Promise<void>;
  /**
   * Delivers an event to whichever member holds `streamId` of the session, this one included,
   * and with `store` first appends it to the session's log. Resolves to the event's position when
   * stored, or `undefined`; also `undefined`, and nothing stored, when the session is gone.
   */
  publish(
    sessionId: string,
    streamId: string,
    message: RelayMessage,
    options: PublishOptions,
  ): Promise<string | undefined>;
  /**
   * Makes this member the holder of `streamId` of the session, so `publish` delivers its events
   * here, and in the same atomic step reads the stored events of that stream after
   * `options.after`, oldest first. Resolves to `undefined` when the session is gone or
   * `options.after` is not in the log (never stored, trimmed, or another session's).
   */
  hold(
    sessionId: string,
    streamId: string,
    options?: HoldOptions,
  ): Promise<readonly StreamEvent[] | undefined>;
  /** Gives up holding `streamId` of the session, if this member still holds it. */
  release(sessionId: string, streamId: string): Promise<void>;
  /** Stops listening; messages sent to this member afterwards find nobody. Idempotent. */
  leave(): Promise<void>;
}

/**
 * Carries messages between the instances that serve the same sessions: to one member by its id,
 * to every other member, or to whichever member holds one of a session's streams, with an
 * optional per-session log of stream events to replay from a position. A session's log and
 * stream holds live as long as the session and go when it ends, so a relay is made together with
 * the store whose sessions it serves; `describeSessionRelay` in `@mcp-sessions/session-testing`
 * checks it. Every operation is one round trip to the backend, with no polling.
 */
export interface SessionRelay {
  /**
   * Whether members in other processes are reached: `true` for a relay over a shared backend,
   * `false` for one in this process.
   */
  readonly shared: boolean;
  /** Joins the fleet as a new member; `listener` receives what is addressed to it. */
  join(listener: RelayListener): RelayMember;
}
