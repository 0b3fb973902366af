import { createHash } from "node:crypto";
import type { CreateOutcome, SessionLookup, SessionRecord } from "@mcp-sessions/session-core";
import { ownerMatches, parseMetadata } from "@mcp-sessions/session-core/store";
import type { Cluster, Redis } from "ioredis";
import type { KeyLayout } from "./keys.js";
import * as lua from "./lua/scripts.generated.js";
import { unexpectedReply } from "./redis-errors.js";
import { defineScripts, scriptCommand } from "./script-loader.js";
import { storeMessagePrefix } from "./store-channel.js";

const MISSING: SessionLookup = Object.freeze({ status: "missing" });
const FOREIGN: SessionLookup = Object.freeze({ status: "foreign" });

/** The store's Lua commands on one client, and the only place their replies are read. */
export class SessionScripts {
  readonly #client: Redis | Cluster;
  readonly #keys: KeyLayout;
  /** The starts of this instance's messages on the store's channel, so it skips its own. */
  readonly #destroyedBy: string;
  readonly #expiredBy: string;

  constructor(client: Redis | Cluster, keys: KeyLayout, instanceId: string) {
    defineScripts(client);
    this.#client = client;
    this.#keys = keys;
    this.#destroyedBy = storeMessagePrefix("destroyed", instanceId);
    this.#expiredBy = storeMessagePrefix("expired", instanceId);
  }

  /** `maxSessions` is checked against `countBuckets`' due indexes in the same script. */
  async create(
    session: SessionRecord,
    metadataJson: string | undefined,
    maxSessions: number | undefined,
    countBuckets: readonly number[],
  ): Promise<CreateOutcome> {
    const bucket = this.#keys.bucketOf(session.id);
    const keys = [
      this.#keys.session(session.id, bucket),
      this.#keys.due(bucket),
      ...countBuckets.map((countBucket) => this.#keys.due(countBucket)),
    ];
    const reply = await scriptCommand(this.#client, lua.createSession)(
      keys.length,
      ...keys,
      session.id,
      session.createdAt,
      session.lastAccessedAt,
      session.expiresAt,
      maxSessions ?? "",
      ...(session.owner === undefined
        ? ["0", "", ""]
        : ["1", session.owner, ownerDigest(session.owner)]),
      ...(metadataJson === undefined ? ["0", ""] : ["1", metadataJson]),
    );
    if (reply === 1) return "created";
    if (reply === 0) return "exists";
    if (reply === -1) return "full";
    throw unexpectedReply("createSession", reply);
  }

  async get(id: string, now: number, owner: string | undefined): Promise<SessionLookup> {
    const reply: unknown = await this.#client.hgetall(this.#keys.session(id));
    const session = toRecord(id, reply);
    if (session === undefined || session.expiresAt <= now) return MISSING;
    if (!ownerMatches(session.owner, owner)) return FOREIGN;
    return { status: "found", session };
  }

  async touch(
    id: string,
    now: number,
    ttl: number,
    maxLifetime: number,
    owner: string | undefined,
  ): Promise<SessionLookup> {
    const bucket = this.#keys.bucketOf(id);
    const reply = await scriptCommand(this.#client, lua.touchSession)(
      this.#keys.session(id, bucket),
      this.#keys.due(bucket),
      this.#keys.eventLog(id, bucket),
      this.#keys.holders(id, bucket),
      id,
      now,
      ttl,
      maxLifetime,
      ...(owner === undefined ? ["0", ""] : ["1", ownerDigest(owner)]),
    );
    if (!Array.isArray(reply)) throw unexpectedReply("touchSession", reply);
    const [status, createdAt, expiresAt, storedOwner, metadata] = reply as unknown[];
    if (status === 0) return MISSING;
    if (status === -1) return FOREIGN;
    // Lua's false arrives as null: the field is absent.
    const session =
      status === 1
        ? toRecord(id, {
            c: createdAt,
            a: now,
            e: expiresAt,
            ...(typeof storedOwner === "string" ? { o: storedOwner } : {}),
            ...(typeof metadata === "string" ? { m: metadata } : {}),
          })
        : undefined;
    if (session === undefined) throw unexpectedReply("touchSession", reply);
    return { status: "found", session };
  }

  async delete(id: string, now: number): Promise<boolean> {
    const bucket = this.#keys.bucketOf(id);
    const reply = await scriptCommand(this.#client, lua.deleteSession)(
      this.#keys.session(id, bucket),
      this.#keys.due(bucket),
      this.#keys.eventLog(id, bucket),
      this.#keys.holders(id, bucket),
      id,
      now,
      this.#keys.channel,
      `${this.#destroyedBy}${id}`,
    );
    if (reply === 1 || reply === 0) return reply === 1;
    throw unexpectedReply("deleteSession", reply);
  }

  /**
   * Up to `limit` ids of `bucket` due at `now`, earliest first, and the deadline of the first one
   * not due yet. Two commands, sent together: one round trip.
   */
  async due(
    bucket: number,
    now: number,
    limit: number,
  ): Promise<{ ids: string[]; nextDeadline: number | undefined }> {
    const key = this.#keys.due(bucket);
    const [ids, next] = await Promise.all([
      this.#client.zrangebyscore(key, "-inf", now, "LIMIT", 0, limit),
      this.#client.zrangebyscore(key, `(${now}`, "+inf", "WITHSCORES", "LIMIT", 0, 1),
    ]);
    return { ids, nextDeadline: next[1] === undefined ? undefined : Number(next[1]) };
  }

  /** Claims the due `ids` of `bucket`; returns the ones this call won. */
  async claim(bucket: number, ids: readonly string[], now: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const reply = await scriptCommand(this.#client, lua.claimExpired)(
      3 * ids.length + 1,
      this.#keys.due(bucket),
      ...ids.flatMap((id) => this.#sessionKeys(id, bucket)),
      now,
      this.#keys.channel,
      this.#expiredBy,
      ...ids,
    );
    return idList("claimExpired", reply);
  }

  async count(bucket: number, now: number): Promise<number> {
    return this.#client.zcount(this.#keys.due(bucket), `(${now}`, "+inf");
  }

  /** One page of `bucket`'s index: ids with their deadlines, and the cursor for the next page. */
  async scan(
    bucket: number,
    cursor: string,
  ): Promise<{ cursor: string; entries: [string, number][] }> {
    const [next, flat] = await this.#client.zscan(this.#keys.due(bucket), cursor, "COUNT", "500");
    const entries: [string, number][] = [];
    for (let index = 0; index + 1 < flat.length; index += 2) {
      entries.push([flat[index] as string, Number(flat[index + 1])]);
    }
    return { cursor: next, entries };
  }

  /** Reads several sessions of one bucket; missing ones are left out. */
  async read(ids: readonly string[]): Promise<SessionRecord[]> {
    const replies = await Promise.all(
      ids.map((id) => this.#client.hgetall(this.#keys.session(id))),
    );
    const sessions: SessionRecord[] = [];
    replies.forEach((reply, index) => {
      const session = toRecord(ids[index] as string, reply);
      if (session) sessions.push(session);
    });
    return sessions;
  }

  /**
   * Removes up to `limit` sessions of `bucket`. Returns the ids removed, and `done` once the
   * bucket was empty.
   */
  async clear(bucket: number, limit: number): Promise<{ removed: string[]; done: boolean }> {
    const ids = await this.#client.zrange(this.#keys.due(bucket), "0", String(limit - 1));
    if (ids.length === 0) return { removed: [], done: true };
    const reply = await scriptCommand(this.#client, lua.clearSessions)(
      3 * ids.length + 1,
      this.#keys.due(bucket),
      ...ids.flatMap((id) => this.#sessionKeys(id, bucket)),
      this.#keys.channel,
      this.#destroyedBy,
      ...ids,
    );
    return { removed: idList("clearSessions", reply), done: false };
  }

  /** Everything a session owns, in the order claimExpired and clearSessions take them. */
  #sessionKeys(id: string, bucket: number): string[] {
    return [
      this.#keys.session(id, bucket),
      this.#keys.eventLog(id, bucket),
      this.#keys.holders(id, bucket),
    ];
  }
}

/** Owners are compared as digests, in Lua and here alike. */
export function ownerDigest(owner: string): string {
  return createHash("sha256").update(owner, "utf8").digest("hex");
}

/** A session hash as HGETALL or a script returns it (flat pairs, or an object), or undefined. */
function toRecord(id: string, reply: unknown): SessionRecord | undefined {
  const fields = new Map<string, string>();
  if (Array.isArray(reply)) {
    for (let index = 0; index + 1 < reply.length; index += 2) {
      fields.set(String(reply[index]), String(reply[index + 1]));
    }
  } else if (typeof reply === "object" && reply !== null) {
    for (const [field, value] of Object.entries(reply)) fields.set(field, String(value));
  }
  const createdAt = Number(fields.get("c"));
  const lastAccessedAt = Number(fields.get("a"));
  const expiresAt = Number(fields.get("e"));
  if (
    !Number.isFinite(createdAt) ||
    !Number.isFinite(lastAccessedAt) ||
    !Number.isFinite(expiresAt)
  ) {
    return undefined;
  }
  const owner = fields.get("o");
  const metadata = fields.get("m");
  return {
    id,
    createdAt,
    lastAccessedAt,
    expiresAt,
    ...(owner === undefined ? {} : { owner }),
    ...(metadata === undefined ? {} : { metadata: parseMetadata(metadata) }),
  };
}

function idList(script: string, reply: unknown): string[] {
  if (!Array.isArray(reply) || !reply.every((id) => typeof id === "string")) {
    throw unexpectedReply(script, reply);
  }
  return reply as string[];
}
