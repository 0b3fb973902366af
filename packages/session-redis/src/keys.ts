/**
 * The only place a key, channel or {hash tag} is spelled.
 *
 * Sessions are spread over `buckets` due indexes. A session's keys and its bucket's index share
 * one hash tag, `{<prefix>:<bucket>}`, so every script touches a single Cluster slot:
 *
 *   {<prefix>:<bucket>}:s:<id>   hash of one session; PEXPIREAT at its deadline
 *   {<prefix>:<bucket>}:due      sorted set, member = id, score = expiresAt
 *   {<prefix>:<bucket>}:ev:<id>  stream, the session's event log; PEXPIREAT as the session
 *   {<prefix>:<bucket>}:h:<id>   hash, stream id -> holding member; PEXPIREAT as the session
 *   <prefix>:events              pub/sub channel: "d:<instance>:<id>" destroyed,
 *                                "e:<instance>:<id>" expired (see store-channel.ts)
 *   <prefix>:all                 pub/sub channel: relay broadcasts
 *   <prefix>:m:<member>          pub/sub channel of one relay member (standalone)
 *   {<prefix>:<bucket>}:m:<member>  sharded channel of one relay member for the sessions of
 *                                one bucket (Cluster), in the same slot as their keys
 *   __keyevent@<db>__:expired    Redis's own channel of expired keys, on every server
 *
 * An id is only ever a key suffix or a sorted-set member, never part of a pattern.
 */
export class KeyLayout {
  readonly prefix: string;
  readonly buckets: number;
  readonly channel: string;
  /** The relay's broadcast channel. */
  readonly broadcastChannel: string;
  /** A relay member's channel, standalone, is this followed by its id. */
  readonly memberChannelPrefix: string;
  readonly #tagPrefix: string;

  constructor(prefix: string, buckets: number) {
    this.prefix = prefix;
    this.buckets = buckets;
    this.channel = `${prefix}:events`;
    this.broadcastChannel = `${prefix}:all`;
    this.memberChannelPrefix = `${prefix}:m:`;
    this.#tagPrefix = `{${prefix}:`;
  }

  /** The bucket of an id: FNV-1a of its characters, modulo `buckets`. */
  bucketOf(id: string): number {
    let hash = 0x811c9dc5;
    for (let index = 0; index < id.length; index++) {
      hash ^= id.charCodeAt(index);
      hash = Math.imul(hash, 0x01000193);
    }
    return (hash >>> 0) % this.buckets;
  }

  session(id: string, bucket = this.bucketOf(id)): string {
    return `${this.#tagPrefix}${bucket}}:s:${id}`;
  }

  eventLog(id: string, bucket = this.bucketOf(id)): string {
    return `${this.#tagPrefix}${bucket}}:ev:${id}`;
  }

  holders(id: string, bucket = this.bucketOf(id)): string {
    return `${this.#tagPrefix}${bucket}}:h:${id}`;
  }

  /**
   * A relay member's sharded channel for the sessions of `bucket`, followed by its id. It shares
   * the bucket's hash tag, so a script on that slot can SPUBLISH to it.
   */
  shardedMemberChannelPrefix(bucket: number): string {
    return `${this.#tagPrefix}${bucket}}:m:`;
  }

  due(bucket: number): string {
    return `${this.#tagPrefix}${bucket}}:due`;
  }

  allDue(): string[] {
    return Array.from({ length: this.buckets }, (_, bucket) => this.due(bucket));
  }

  /** The session id in one of this store's session keys (as keyspace events name them), if it is one. */
  idOfSessionKey(key: string): string | undefined {
    if (!key.startsWith(this.#tagPrefix)) return undefined;
    const end = key.indexOf("}:s:", this.#tagPrefix.length);
    if (end === -1) return undefined;
    const bucket = key.slice(this.#tagPrefix.length, end);
    const id = key.slice(end + 4);
    // Only a key this layout would have written counts; anything else under the prefix is not ours.
    return id.length > 0 && this.session(id) === key && String(this.bucketOf(id)) === bucket
      ? id
      : undefined;
  }
}

/** Redis's channel of the keys it expired in database `db`; in a Cluster, on each master. */
export function expiredKeyChannel(db: number): string {
  return `__keyevent@${db}__:expired`;
}
