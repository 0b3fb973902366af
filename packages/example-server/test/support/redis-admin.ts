import { pollUntil } from "@mcp-sessions/session-testing/wait";
import { Redis } from "ioredis";

/** One command on a connection of its own, closed after: Redis may not stay up in between. */
export async function redisCall(url: string, ...args: [string, ...string[]]): Promise<unknown> {
  const client = new Redis(url, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
  });
  try {
    await client.connect();
    return await client.call(...args);
  } finally {
    client.disconnect();
  }
}

/** One connection in `CLIENT LIST`: its id and how many channels it subscribes. */
export interface Subscriber {
  readonly id: string;
  readonly channels: number;
}

/**
 * The subscription connections of the fleet with `prefix`: session-redis opens one per
 * instance, named `<prefix>:subscriber`, for the store's channels and the relay's broadcast
 * channel and the instance's own. An instance announces itself only once its store and relay
 * member are ready, so it is reachable through the relay once its connection is here.
 */
export async function relaySubscribers(url: string, prefix: string): Promise<Subscriber[]> {
  const list = String(await redisCall(url, "CLIENT", "LIST", "TYPE", "pubsub"));
  const subscribers: Subscriber[] = [];
  for (const line of list.split("\n")) {
    const fields = new Map(
      line
        .trim()
        .split(" ")
        .map((field) => field.split("=", 2) as [string, string]),
    );
    if (fields.get("name") !== `${prefix}:subscriber`) continue;
    subscribers.push({ id: fields.get("id") ?? "", channels: Number(fields.get("sub")) });
  }
  return subscribers;
}

/** How long a fleet's relays may take to subscribe once its instances listen. */
const SUBSCRIBE_BOUND_MS = 10_000;

/** Resolves once `instances` relay subscriber connections of the fleet with `prefix` are up. */
export function relaysSubscribed(url: string, prefix: string, instances: number): Promise<void> {
  // CLIENT LIST is the only place a subscription shows; there is no event to wait on.
  return pollUntil(async () => (await relaySubscribers(url, prefix)).length === instances, {
    waitingFor: `${instances} relay subscriptions of ${prefix}`,
    timeoutMs: SUBSCRIBE_BOUND_MS,
  });
}
