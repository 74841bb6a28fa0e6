/** Splits `host:port` or `[v6]:port`; an empty host means all interfaces, as in Node's listen(). */
export function splitHostPort(endpoint: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(endpoint);
  if (!match) throw new Error(`invalid endpoint "${endpoint}"; expected host:port`);
  return { host: match[1] ?? match[2] ?? '', port: Number(match[3]) };
}

/** Formats a socket address as `host:port`, with brackets around IPv6 hosts. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Strips the `::ffff:` prefix that dual-stack sockets put in front of IPv4 peer addresses. */
export function normalizeAddress(address: string | undefined): string | undefined {
  if (!address) return undefined;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
