/**
 * The client's address, for limits per address. Behind load balancers the
 * TCP peer is the last proxy; `X-Forwarded-For` then names the client, but
 * anyone can send that header, so it is believed only as far as the operator
 * says proxies sit in front (SWITCHBOARD_TRUST_PROXY = how many).
 */
import { isIPv6 } from "node:net";

/**
 * The client's IP address as seen by the first proxy (or the TCP peer).
 *
 * @param remote the TCP peer's address (`socket.remoteAddress`)
 * @param forwardedFor the `X-Forwarded-For` header(s) as received
 * @param trustedProxies how many proxies in front append to `X-Forwarded-For` (0: believe none)
 *
 * With one proxy, `X-Forwarded-For: spoofed, 203.0.113.7` gives 203.0.113.7:
 * the proxy appended the address it saw, whatever the client wrote before it.
 */
export function clientIp(remote: string | undefined, forwardedFor: string | string[] | undefined, trustedProxies: number): string {
  if (trustedProxies > 0 && forwardedFor !== undefined) {
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : forwardedFor)
      .split(",")
      .map((h) => h.trim())
      .filter(Boolean);
    const client = hops[Math.max(0, hops.length - trustedProxies)];
    if (client) return client;
  }
  return remote ?? "unknown";
}

/** The key limits per address count the client under (see {@link clientIp} and {@link limitKey}). */
export function clientAddress(
  remote: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxies: number,
): string {
  return limitKey(clientIp(remote, forwardedFor, trustedProxies));
}

/**
 * The key limits count under: IPv4 addresses as they are (IPv4-mapped IPv6
 * too), IPv6 addresses by their /64, since one subscriber usually holds a
 * whole /64 and could otherwise change address for every attempt.
 */
export function limitKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  return `${expandIPv6(address).slice(0, 4).join(":")}::/64`;
}

function expandIPv6(address: string): string[] {
  const [head = "", tail] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const zeros = Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0");
  return [...left, ...(tail === undefined ? [] : zeros), ...right].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ""));
}
