import { isIPv6 } from "node:net";

/**
 * What {@link SessionsPerAddress} counts a client's sessions under, from a socket's
 * `remoteAddress`: an IPv4 address as it is (an IPv4-mapped IPv6 one too), an IPv6 address as its
 * /64, written `2001:db8:0:1::/64`. One host is usually given a whole /64, so counting single
 * IPv6 addresses would let it make as many sessions as it likes.
 */
export function addressKey(remoteAddress: string | undefined): string {
  // A socket that closed before it was read has no address; such requests share one count.
  if (remoteAddress === undefined) return "unknown";
  const address = remoteAddress.split("%", 1)[0] ?? "";
  if (!isIPv6(address)) return address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  return `${groupsOf(address).slice(0, 4).join(":")}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address, in hex without leading zeros. */
function groupsOf(address: string): string[] {
  const [head = "", tail] = address.split("::", 2);
  const split = (part: string) => (part === "" ? [] : part.split(":"));
  const before = split(head);
  const after = tail === undefined ? [] : split(tail);
  // An IPv4 address at the end (`64:ff9b::192.0.2.1`) fills the last two groups.
  const written = before.length + after.length + (after.at(-1)?.includes(".") ? 1 : 0);
  const zeros: string[] = tail === undefined ? [] : new Array(8 - written).fill("0");
  return [...before, ...zeros, ...after].map((group) =>
    group.includes(".") ? group : Number.parseInt(group, 16).toString(16),
  );
}
