import { isIPv6 } from "node:net";

/**
 * The key a client address is limited under: an IPv4 address as it is (also
 * when IPv4-mapped, `::ffff:1.2.3.4`), an IPv6 address by its /64, since one
 * subscriber usually holds a whole /64 and could otherwise take a fresh
 * address per request.
 */
export function clientKey(ip: string): string {
  const address = ip.split("%")[0]!.toLowerCase();
  if (!isIPv6(address)) return address || "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return mapped[1]!;
  const [head = "", tail] = address.split("::");
  const groups = (part: string) => (part ? part.split(":").flatMap((g) => (g.includes(".") ? ["0", "0"] : [g])) : []);
  const first = groups(head);
  const last = tail === undefined ? [] : groups(tail);
  const all = [...first, ...Array<string>(8 - first.length - last.length).fill("0"), ...last];
  return `${all.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}
