/**
 * Who sent a request: the socket's peer, or, when that peer is one of the configured reverse proxies
 * (`http.trustedproxies`), the address that proxy put in `X-Forwarded-For`. The header is read from the
 * right, skipping every trusted hop, so a client cannot name itself by sending its own X-Forwarded-For
 * through a proxy that appends to it.
 */
import type { IncomingMessage } from 'node:http';
import net from 'node:net';

export type ClientAddress = (req: IncomingMessage) => string;

export function clientAddressResolver(trustedProxies: readonly string[]): ClientAddress {
  const trusted = new net.BlockList();
  for (const entry of trustedProxies) {
    const [address, bits] = entry.split('/') as [string, string | undefined];
    const family = net.isIPv6(address) ? 'ipv6' : 'ipv4';
    if (bits === undefined) trusted.addAddress(address, family);
    else trusted.addSubnet(address, Number(bits), family);
  }
  const isTrusted = (address: string): boolean => {
    const plain = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
    const family = net.isIPv6(plain) ? 'ipv6' : net.isIPv4(plain) ? 'ipv4' : undefined;
    return family !== undefined && trusted.check(plain, family);
  };
  return (req) => {
    const peer = (req.socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
    if (trustedProxies.length === 0 || !isTrusted(peer)) return peer;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((hop) => hop.trim()).filter(Boolean);
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      // anything that is not an address ends the chain of hops worth believing
      if (net.isIP(hop) === 0) break;
      client = hop;
      if (!isTrusted(hop)) break;
    }
    return client;
  };
}
