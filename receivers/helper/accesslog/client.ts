import { isIP } from 'node:net';
import { cidrContains, parseAddress, parseCidr, type Cidr } from '../../../core/cidr.js';

/** The `trusted_proxies` entry that trusts peers on a Unix socket, as nginx's `set_real_ip_from unix:`. */
export const UNIX_PEER = 'unix:';

/** Most forwarding hops read from one header; a longer chain is cut to its right-most entries. */
const MAX_HOPS = 64;

export interface ResolvedClient {
  /** The address blamed for the request. */
  address?: string;
  /** The port of `address`, when it is the peer's. */
  port?: number;
  /** The address that connected to the gateway, when it differs from `address`. */
  peerAddress?: string;
}

/**
 * Splits an address or a forwarding chain (`203.0.113.5, 198.51.100.7`, `"a, b" c`,
 * `[2001:db8::1]:443`) into bare addresses, dropping quotes, brackets and ports. Entries that are
 * not IP addresses (`unknown`, `unix:`, a host name) stay as written, so the resolver can stop at them.
 */
export function splitAddressList(text: string | undefined): string[] {
  if (!text) return [];
  const entries: string[] = [];
  let start = 0;
  for (let i = 0; i <= text.length; i++) {
    const char = text[i];
    if (i === text.length || char === ',' || char === ' ' || char === '"' || char === '\t') {
      if (i > start) entries.push(stripPort(text.slice(start, i)));
      start = i + 1;
    }
  }
  return entries.length > MAX_HOPS ? entries.slice(-MAX_HOPS) : entries;
}

/** True for text without list separators, quotes, brackets or a `v4:port` port. */
function isPlainAddress(text: string): boolean {
  let colons = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 44 || code === 32 || code === 34 || code === 91 || code === 9) return false;
    if (code === 58) colons++;
  }
  return colons !== 1;
}

/** Removes brackets and a port: `[v6]:port`, `v4:port`; a bare IPv6 address stays whole. */
export function stripPort(entry: string): string {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    return close > 0 ? entry.slice(1, close) : entry;
  }
  const colon = entry.indexOf(':');
  if (colon > 0 && colon === entry.lastIndexOf(':') && isIP(entry.slice(0, colon)) === 4) return entry.slice(0, colon);
  return entry;
}

/** Returns the port of `ip:port` or `[v6]:port`, if any. */
export function portOf(entry: string): number | undefined {
  const bracket = entry.startsWith('[') ? entry.indexOf(']:') : -1;
  const colon = bracket > 0 ? bracket + 1 : entry.indexOf(':') === entry.lastIndexOf(':') ? entry.indexOf(':') : -1;
  if (colon <= 0) return undefined;
  const port = Number(entry.slice(colon + 1));
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? port : undefined;
}

/**
 * Decides which address a request is blamed on. A gateway logs the peer that connected to it and
 * the `X-Forwarded-For` header, which the client writes itself. The peer is blamed unless it is a
 * trusted proxy. Then the chain is read from the right, each trusted hop handing over to the one
 * before it, and the first untrusted hop is blamed. A client can prepend anything to the header,
 * but it cannot make a trusted proxy vouch for it, so the blamed address is never one it chose.
 */
export class ClientResolver {
  private readonly cidrs: Cidr[];
  private readonly trustUnix: boolean;
  private readonly anyTrusted: boolean;

  constructor(trustedProxies: readonly string[] = []) {
    this.cidrs = [];
    this.trustUnix = false;
    for (const entry of trustedProxies) {
      if (entry === UNIX_PEER) {
        this.trustUnix = true;
        continue;
      }
      const cidr = parseCidr(entry);
      if (!cidr) throw new Error(`trusted_proxies: "${entry}" is not an IP address, a CIDR range or "unix:"`);
      this.cidrs.push(cidr);
    }
    this.anyTrusted = this.cidrs.length > 0 || this.trustUnix;
  }

  get trustsAny(): boolean {
    return this.anyTrusted;
  }

  /**
   * Resolves the client. `peer` is the logged remote address, which some setups write as a list
   * whose last entry is the real peer. When a format logs no peer (Envoy's default format), the
   * last forwarding hop takes its place, because Envoy appends its peer to the header.
   */
  resolve(peer: string | undefined, forwardedFor: string | undefined, peerPort?: number): ResolvedClient {
    // The common case, one plain address and nothing trusted, needs no list handling.
    if (peer !== undefined && !this.trustsAny && isPlainAddress(peer)) return { address: peer === '-' ? undefined : peer, port: peerPort };
    const peerEntries = peer === undefined ? [] : splitAddressList(peer);
    const hops = [...splitAddressList(forwardedFor), ...peerEntries.slice(0, -1)];
    let peerAddress = peerEntries.length > 0 ? peerEntries[peerEntries.length - 1] : hops.pop();
    if (peerAddress === undefined) return {};
    if (peerEntries.length === 1 && peer !== undefined && peerAddress !== peer && peerPort === undefined) peerPort = portOf(peer.trim());
    if (peerAddress === '-' || peerAddress === '') peerAddress = undefined;
    if (!peerAddress || !this.isTrusted(peerAddress)) return { address: peerAddress, port: peerPort };

    let blamed = peerAddress;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i];
      // A hop that is not an address ends the chain: nothing to its left can be vouched for.
      if (!parseAddress(hop)) break;
      blamed = hop;
      if (!this.isTrusted(hop)) break;
    }
    return blamed === peerAddress ? { address: peerAddress, port: peerPort } : { address: blamed, peerAddress };
  }

  private isTrusted(address: string): boolean {
    if (address === UNIX_PEER || address === 'unix') return this.trustUnix;
    const bytes = parseAddress(address);
    return bytes !== undefined && this.cidrs.some((cidr) => cidrContains(cidr, bytes));
  }
}
