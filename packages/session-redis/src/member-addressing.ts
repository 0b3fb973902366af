import type { KeyLayout } from "./keys.js";

/**
 * How relay members are reached: the channels a member listens on, and the command that
 * publishes to one. `send` and the publish script need the true number of receivers, to tell a
 * live member from a gone one.
 */
export interface MemberAddressing {
  readonly publishCommand: "PUBLISH" | "SPUBLISH";
  /** The start of a member's channel for the sessions of `bucket`; the member's id follows. */
  channelPrefix(bucket: number): string;
  /** Every channel a member listens on, by the way it subscribes to them. */
  channelsOf(memberId: string): { readonly classic: string[]; readonly sharded: string[] };
}

/** Standalone: one channel per member, PUBLISH, whose reply counts every receiver. */
export function classicAddressing(keys: KeyLayout): MemberAddressing {
  return {
    publishCommand: "PUBLISH",
    channelPrefix: () => keys.memberChannelPrefix,
    channelsOf: (memberId) => ({
      classic: [`${keys.memberChannelPrefix}${memberId}`],
      sharded: [],
    }),
  };
}

/**
 * Cluster: one sharded channel per member and bucket, in the slot of that bucket's keys, and
 * SPUBLISH. A Cluster's PUBLISH reaches every node but counts only the receivers on the node
 * that ran it; SPUBLISH runs on the slot's master, where the member's sharded subscriber is, and
 * a script on the session's slot may publish to a channel of that slot.
 */
export function shardedAddressing(keys: KeyLayout): MemberAddressing {
  return {
    publishCommand: "SPUBLISH",
    channelPrefix: (bucket) => keys.shardedMemberChannelPrefix(bucket),
    channelsOf: (memberId) => ({
      classic: [],
      sharded: Array.from(
        { length: keys.buckets },
        (_, bucket) => `${keys.shardedMemberChannelPrefix(bucket)}${memberId}`,
      ),
    }),
  };
}
