import type { StreamEvent } from "@mcp-sessions/session-core";
import type { Cluster, Redis } from "ioredis";
import type { KeyLayout } from "./keys.js";
import * as lua from "./lua/scripts.generated.js";
import type { MemberAddressing } from "./member-addressing.js";
import { unexpectedReply } from "./redis-errors.js";
import { parseMessage } from "./relay-frames.js";
import { defineScripts, scriptCommand } from "./script-loader.js";

/**
 * The relay's Lua commands on one client, and the only place their replies are read. Each is one
 * script on the session's slot: one round trip, atomic with the session's existence.
 */
export class RelayScripts {
  readonly #client: Redis | Cluster;
  readonly #keys: KeyLayout;
  readonly #addressing: MemberAddressing;
  readonly #maxEventsPerSession: number;

  constructor(
    client: Redis | Cluster,
    keys: KeyLayout,
    addressing: MemberAddressing,
    maxEventsPerSession: number,
  ) {
    defineScripts(client);
    this.#client = client;
    this.#keys = keys;
    this.#addressing = addressing;
    this.#maxEventsPerSession = maxEventsPerSession;
  }

  /** The event's position when stored; undefined when only delivered, or the session is gone. */
  async publish(
    sessionId: string,
    streamId: string,
    messageJson: string,
    store: boolean,
  ): Promise<string | undefined> {
    const bucket = this.#keys.bucketOf(sessionId);
    const reply = await scriptCommand(this.#client, lua.publishEvent)(
      this.#keys.session(sessionId, bucket),
      this.#keys.eventLog(sessionId, bucket),
      this.#keys.holders(sessionId, bucket),
      sessionId,
      streamId,
      messageJson,
      store ? "1" : "0",
      this.#maxEventsPerSession,
      this.#addressing.publishCommand,
      this.#addressing.channelPrefix(bucket),
    );
    if (reply === null || reply === "") return undefined;
    if (typeof reply === "string") return reply;
    throw unexpectedReply("publishEvent", reply);
  }

  /** The stream's stored events after `after` (none without it), or undefined; see holdStream.lua. */
  async hold(
    memberId: string,
    sessionId: string,
    streamId: string,
    after: string | undefined,
  ): Promise<StreamEvent[] | undefined> {
    const bucket = this.#keys.bucketOf(sessionId);
    const reply = await scriptCommand(this.#client, lua.holdStream)(
      this.#keys.session(sessionId, bucket),
      this.#keys.eventLog(sessionId, bucket),
      this.#keys.holders(sessionId, bucket),
      streamId,
      memberId,
      ...(after === undefined ? ["0", ""] : ["1", after]),
    );
    if (reply === null) return undefined;
    if (!Array.isArray(reply) || reply.length % 2 !== 0) throw unexpectedReply("holdStream", reply);
    const events: StreamEvent[] = [];
    for (let index = 0; index < reply.length; index += 2) {
      const [position, json] = [reply[index], reply[index + 1]];
      const message = typeof json === "string" ? parseMessage(json) : undefined;
      if (typeof position !== "string" || message === undefined) {
        throw unexpectedReply("holdStream", reply);
      }
      events.push({ position, message });
    }
    return events;
  }

  async release(memberId: string, sessionId: string, streamId: string): Promise<void> {
    const reply = await scriptCommand(this.#client, lua.releaseStream)(
      this.#keys.holders(sessionId),
      streamId,
      memberId,
    );
    if (reply !== 0 && reply !== 1) throw unexpectedReply("releaseStream", reply);
  }
}
