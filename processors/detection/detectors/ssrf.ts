import type { Detector } from './detector.js';
import type { EventView, Inspected } from '../view.js';
import { COLON, SLASH } from '../chars.js';
import { cidrContains, parseAddress, parseCidr, type Cidr } from '../../../core/cidr.js';

/*
 * Server-side request forgery: a URL-like parameter that points the server at itself, its
 * network, or a cloud metadata service, or that uses a scheme (gopher:, file:, dict:) which turns
 * a fetch into something else. Addresses are read the way resolvers read them, so decimal
 * (2130706433), hex (0x7f000001), octal (0177.0.0.1), shortened (127.1) and IPv4-mapped IPv6
 * ([::ffff:127.0.0.1]) forms of an internal address are recognised, and the encoded form is
 * itself reported as evasion.
 */

interface Range {
  cidr: Cidr;
  kind: string;
}

function ranges(kind: string, texts: string[]): Range[] {
  return texts.map((text) => ({ cidr: parseCidr(text) as Cidr, kind }));
}

/** Internal ranges, most specific first, so 169.254.169.254 reports as metadata rather than link-local. */
const INTERNAL_RANGES: Range[] = [
  ...ranges('cloud metadata', ['169.254.169.254/32', '169.254.170.2/32', 'fd00:ec2::254/128', '100.100.100.200/32', '192.0.0.192/32', '168.63.129.16/32']),
  ...ranges('loopback', ['127.0.0.0/8', '::1/128']),
  ...ranges('unspecified', ['0.0.0.0/8', '::/128']),
  ...ranges('link-local', ['169.254.0.0/16', 'fe80::/10']),
  ...ranges('private', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']),
  ...ranges('shared address space', ['100.64.0.0/10']),
];
/** Host names of metadata services and of the local machine or cluster. */
const INTERNAL_NAMES: Record<string, string> = {
  localhost: 'loopback', 'localhost.localdomain': 'loopback', 'ip6-localhost': 'loopback', 'ip6-loopback': 'loopback',
  'metadata.google.internal': 'cloud metadata', metadata: 'cloud metadata', 'metadata.packet.net': 'cloud metadata',
  'instance-data': 'cloud metadata', 'instance-data.ec2.internal': 'cloud metadata', 'metadata.azure.com': 'cloud metadata',
  'kubernetes.default': 'cluster service', 'kubernetes.default.svc': 'cluster service', 'host.docker.internal': 'container host',
  'gateway.docker.internal': 'container host', 'localtest.me': 'loopback',
};
/** Suffixes that name internal hosts or resolve to the address written into the name (127.0.0.1.nip.io). */
const INTERNAL_SUFFIXES: Record<string, string> = {
  '.localhost': 'loopback', '.internal': 'internal name', '.svc.cluster.local': 'cluster service', '.local': 'internal name',
  '.localtest.me': 'loopback', '.nip.io': 'wildcard DNS', '.sslip.io': 'wildcard DNS', '.xip.io': 'wildcard DNS',
};
/** Out-of-band interaction services scanners use to confirm a blind SSRF. */
const CALLBACK_DOMAINS = ['burpcollaborator.net', 'oastify.com', 'interact.sh', 'oast.fun', 'oast.live', 'oast.me', 'oast.online', 'oast.pro', 'oast.site', 'requestbin.net', 'dnslog.cn', 'canarytokens.com'];
/** Schemes that make a URL fetcher speak another protocol or read local files. */
const ODD_SCHEMES = ['gopher', 'dict', 'file', 'local_file', 'ldap', 'ldaps', 'tftp', 'sftp', 'jar', 'netdoc', 'expect', 'phar', 'xri', 'smb', 'telnet', 'ssh2.exec', 'ogg', 'rtsp', 'mms', 'jdbc', 'url'];
/** Parameter names that carry URLs or hosts; their values are read as hosts even without a scheme. */
const URL_PARAMETERS = new Set([
  'url', 'uri', 'link', 'href', 'src', 'source', 'target', 'dest', 'destination', 'redirect', 'redirect_uri', 'redirect_url', 'return',
  'return_url', 'returnurl', 'next', 'continue', 'callback', 'callback_url', 'webhook', 'webhook_url', 'feed', 'rss', 'host', 'hostname',
  'domain', 'site', 'proxy', 'image', 'image_url', 'imageurl', 'img', 'avatar', 'file', 'fetch', 'load', 'endpoint', 'server', 'ip',
  'address', 'to', 'out', 'view', 'path', 'ssrf', 'api', 'remote', 'location',
]);

/**
 * Parses an IPv4 address the way `inet_aton` does: one to four parts, each decimal, hex (`0x`)
 * or octal (leading `0`), the last part filling the remaining bytes. Returns the four bytes and
 * whether the text used anything but the dotted-decimal form.
 */
export function parseLooseIpv4(text: string): { bytes: number[]; encoded: boolean } | undefined {
  if (text.length === 0 || text.length > 48 || !/^[0-9a-fx.]+$/.test(text)) return undefined;
  const parts = text.split('.');
  if (parts.length > 4 || parts.some((part) => part.length === 0)) return undefined;
  const values: number[] = [];
  let encoded = parts.length !== 4;
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/.test(part)) {
      value = part.length === 2 ? 0 : parseInt(part.slice(2), 16);
      encoded = true;
    } else if (/^0[0-7]+$/.test(part)) {
      value = parseInt(part, 8);
      encoded = true;
    } else if (/^\d+$/.test(part)) {
      value = Number(part);
    } else {
      return undefined;
    }
    if (!Number.isFinite(value)) return undefined;
    values.push(value);
  }
  const last = values.pop() as number;
  const lastBytes = 4 - values.length;
  if (values.some((value) => value > 255) || last >= 2 ** (8 * lastBytes)) return undefined;
  const bytes = [...values];
  for (let i = lastBytes - 1; i >= 0; i--) bytes.push(Math.floor(last / 2 ** (8 * i)) % 256);
  return { bytes, encoded };
}

function classifyBytes(bytes: Uint8Array): string | undefined {
  return INTERNAL_RANGES.find((range) => cidrContains(range.cidr, bytes))?.kind;
}

/** Classifies a host: an internal address or name, or undefined. Reports encoded IPv4 forms as evasion. */
export function classifyHost(hostText: string): string | undefined {
  let host = hostText.trim().replace(/\.$/, '');
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (host.length === 0) return undefined;
  const loose = parseLooseIpv4(host);
  if (loose) {
    const kind = classifyBytes(Uint8Array.from(loose.bytes));
    if (loose.encoded) return `${kind ?? 'public'} address written as ${host}`;
    return kind ? `${kind} address ${host}` : undefined;
  }
  if (host.includes(':')) {
    const bytes = parseAddress(host);
    if (!bytes) return undefined;
    const kind = classifyBytes(bytes);
    return kind ? `${kind} address ${host}${bytes.length === 4 ? ' (IPv4-mapped)' : ''}` : undefined;
  }
  const named = INTERNAL_NAMES[host];
  if (named) return `${named} host ${host}`;
  for (const [suffix, kind] of Object.entries(INTERNAL_SUFFIXES)) if (host.endsWith(suffix)) return `${kind} host ${host}`;
  const callback = CALLBACK_DOMAINS.find((domain) => host === domain || host.endsWith(`.${domain}`));
  if (callback) return `out-of-band callback host ${host}`;
  return undefined;
}

/** The authority of a URL-like value: what lies between `//` (or the scheme's `:`) and the path. */
function authorityOf(value: string, schemeEnd: number): string {
  let start = schemeEnd + 1;
  while (value[start] === '/' && start - schemeEnd <= 3) start++;
  let end = start;
  while (end < value.length && !'/?#'.includes(value[end])) {
    if (value[end] === '[') {
      const close = value.indexOf(']', end);
      end = close < 0 ? value.length : close + 1;
    } else {
      end++;
    }
  }
  return value.slice(start, end);
}

/** Hosts a URL-like value may reach: the authority's host after the last `@`, and any address after other `@`s. */
function hostsOf(authority: string): string[] {
  const hosts: string[] = [];
  const parts = authority.split('@');
  for (const part of parts.slice(Math.max(0, parts.length - 4))) {
    let host = part.trim();
    if (host.startsWith('[')) host = host.slice(0, host.indexOf(']') + 1);
    else if (host.indexOf(':') >= 0 && host.indexOf(':') === host.lastIndexOf(':')) host = host.slice(0, host.indexOf(':'));
    host = host.split(/[\s&#]/)[0];
    if (host) hosts.push(host);
  }
  return hosts;
}

/** Checks one decoded, lower-cased value; `urlParameter` marks values of parameters that carry URLs or hosts. */
export function detectSsrf(input: string, urlParameter: boolean): string | undefined {
  if (input.length < 3) return undefined;
  // Backslashes between the letters of a host (`\l\o\c\a\l\h\o\s\t`) are dropped by lenient URL parsers.
  const value = input.indexOf('\\') >= 0 ? input.replace(/\\(?=[a-z0-9])/g, '') : input;
  const scheme = /^([a-z][a-z0-9+._-]{1,16}):/.exec(value);
  // `localhost:8080/x` looks like a scheme but is a host and port.
  const isScheme = scheme !== null && (value.startsWith(`${scheme[1]}://`) || ['http', 'https', 'file', 'jar', 'url', 'mailto', 'data', 'javascript'].includes(scheme[1]));
  if (scheme && isScheme) {
    const name = scheme[1];
    if (ODD_SCHEMES.includes(name)) return `${name}: scheme`;
    if (name !== 'http' && name !== 'https' && !value.startsWith(`${name}://`)) return undefined;
    for (const host of hostsOf(authorityOf(value, name.length))) {
      const kind = classifyHost(host);
      if (kind) return kind;
    }
    return undefined;
  }
  if (value.startsWith('//')) {
    for (const host of hostsOf(authorityOf(value, -1))) {
      const kind = classifyHost(host);
      if (kind) return kind;
    }
    return undefined;
  }
  if (!urlParameter || value.length > 256 || value.indexOf(' ') >= 0) return undefined;
  // Without a scheme, only a dotted or bracketed host counts: `next=42` and `file=metadata` are not hosts.
  const hosts = hostsOf(authorityOf(value, -1)).filter((host) => host === 'localhost' || host.includes('.') || host.startsWith('['));
  return hosts.map((host) => classifyHost(host)).find((kind) => kind !== undefined);
}

function parameterName(location: string): string {
  const colon = location.indexOf(':');
  if (colon < 0) return '';
  return location.endsWith('[]') ? location.slice(colon + 1, -2) : location.slice(colon + 1);
}

function inspect(values: Inspected[]): string | undefined {
  for (const { location, value, classes } of values) {
    if (location.startsWith('http.request.header.referer') || location === 'user_agent.original') continue;
    const urlParameter = URL_PARAMETERS.has(parameterName(location));
    // Outside parameters that carry URLs, only a scheme (`:`) or a network-path reference (`//`) names a host.
    if (!urlParameter && (classes & (COLON | SLASH)) === 0) continue;
    const found = detectSsrf(value, urlParameter);
    if (found) return `${location}: ${found}`;
  }
  return undefined;
}

export const serverSideRequestForgery: Detector = {
  name: 'ssrf',
  description: 'URL-like parameters pointing at loopback, link-local, private or cloud metadata addresses (also encoded), or using gopher:, file: or dict: schemes.',
  detect: (view: EventView) => inspect(view.inputs),
};
