import { isIP } from 'node:net';
import { optionalNumber, optionalText, type AccessFields } from './fields.js';
import { unescapeLogValue } from './escape.js';
import { compileTemplate, indexOfUnescaped, type LineSplitter } from './template.js';
import { nginxTokens } from './nginx.js';
import { fieldsFromVariables, applyRequestLine } from './variables.js';
import { parseCommonLogTime, parseIsoTime, type ZoneOffset } from './time.js';

/*
 * The Common Log Format family: `host ident user [time] "request" status bytes`, optionally
 * followed by `"referer" "user agent"` and by fields some servers append. nginx `combined`, Apache
 * `common` and `combined`, Traefik's CLF and API Gateway's CLF template all start this way, so one
 * scanner reads them all. Beside the textbook form it accepts what real logs contain: a virtual
 * host in front, a list of forwarded addresses as the host, or a user name with spaces. It also
 * accepts `-` in place of a quoted field, a missing ident, an ISO time in the brackets, and a
 * request line that is not a request at all.
 */

/** How far into the line the time field is searched for; the host part before it is short. */
const MAX_PREFIX = 1024;
/** How many `[` or quote candidates a field may try before the line is given up. */
const MAX_ATTEMPTS = 16;

export interface ClfScan {
  fields: AccessFields;
  /** Text after the user agent (or after the bytes), without the leading space. */
  rest: string;
}

/** Scans the CLF head of a line; undefined when the line is not of this family. */
export function scanClf(line: string, zone: ZoneOffset, prefix: string): ClfScan | undefined {
  const time = findTime(line, zone);
  if (!time) return undefined;
  const fields: AccessFields = { extraPrefix: prefix, timeMs: time.ms };
  if (!readPrefix(line.slice(0, time.start).trimEnd(), fields)) return undefined;

  let position = time.end;
  const request = readRequest(line, position);
  if (!request) return undefined;
  if (request.text !== undefined) applyRequestLine(fields, request.text);
  position = request.end;

  const status = readToken(line, position);
  if (!status || !isStatus(status.text)) return undefined;
  fields.status = optionalNumber(status.text);
  position = status.end;

  const bytes = readToken(line, position);
  if (bytes && /^(?:\d+|-)$/.test(bytes.text)) {
    fields.bodyBytesSent = optionalNumber(bytes.text);
    position = bytes.end;
    const referer = readQuotedOrDash(line, position);
    if (referer) {
      const agent = readQuotedOrDash(line, referer.end);
      if (agent) {
        fields.referer = unescaped(referer.text);
        fields.userAgent = unescaped(agent.text);
        position = agent.end;
      }
    }
  }
  const rest = position >= line.length ? '' : line.slice(line[position] === ' ' ? position + 1 : position);
  return { fields, rest };
}

/** Finds `[time]`, or the `-` that stands for it in the fourth space-separated field. */
function findTime(line: string, zone: ZoneOffset): { start: number; end: number; ms?: number } | undefined {
  let open = line.indexOf('[');
  for (let attempt = 0; open >= 0 && open < MAX_PREFIX && attempt < MAX_ATTEMPTS; attempt++) {
    const close = line.indexOf(']', open + 1);
    if (close < 0) break;
    const text = line.slice(open + 1, close);
    const ms = text === '-' ? undefined : parseCommonLogTime(text, zone) ?? parseIsoTime(text, zone);
    if ((ms !== undefined || text === '-') && (close + 1 === line.length || line[close + 1] === ' ')) {
      return { start: open, end: close + 1 === line.length ? close + 1 : close + 2, ms };
    }
    open = line.indexOf('[', open + 1);
  }
  // `- - - - "GET / HTTP/1.0" 200 1` writes every field as a dash, the time too.
  let spaces = 0;
  for (let i = 0; i < Math.min(line.length, MAX_PREFIX); i++) {
    if (line[i] !== ' ') continue;
    if (++spaces === 3) return line[i + 1] === '-' && (line[i + 2] === ' ' || i + 2 === line.length) ? { start: i + 1, end: i + 3 } : undefined;
  }
  return undefined;
}

/**
 * Reads `host ident user`, `vhost host ident user`, or a forwarding list as the host. The ident
 * is the first `-` after the host; what follows it is the user, which may contain spaces.
 */
function readPrefix(prefix: string, fields: AccessFields): boolean {
  if (prefix === '') return false;
  // The common `address ident user` with single spaces needs no token list.
  const first = prefix.indexOf(' ');
  const second = first < 0 ? -1 : prefix.indexOf(' ', first + 1);
  if (first > 0 && second > first + 1 && prefix.indexOf(' ', second + 1) < 0 && prefix[0] !== '"') {
    const ident = prefix.slice(first + 1, second);
    if (ident !== '-') (fields.extra ??= {}).ident = ident;
    fields.remoteAddress = optionalText(prefix.slice(0, first));
    fields.remoteUser = optionalText(unescaped(prefix.slice(second + 1)));
    return true;
  }

  const tokens = prefix.split(' ').filter((token) => token !== '');
  let addressPart: string;
  let user: string | undefined;
  if (tokens.length <= 3) {
    addressPart = tokens[0];
    user = tokens[2];
    if (tokens[1] !== undefined && tokens[1] !== '-') (fields.extra ??= {}).ident = tokens[1];
  } else {
    const dash = tokens.indexOf('-', 1);
    const identAt = dash > 0 ? dash : 1;
    addressPart = tokens.slice(0, identAt).join(' ');
    user = tokens.slice(identAt + 1).join(' ');
    if (tokens[identAt] !== '-') (fields.extra ??= {}).ident = tokens[identAt];
  }

  const parts = addressPart.split(' ');
  if (isVirtualHost(parts)) {
    const first = parts[0];
    const colon = first.lastIndexOf(':');
    const port = colon > 0 ? Number(first.slice(colon + 1)) : NaN;
    fields.host = Number.isInteger(port) && colon > 0 ? first.slice(0, colon) : first;
    if (Number.isInteger(port) && colon > 0) fields.serverPort = port;
    addressPart = parts.slice(1).join(' ');
  }
  fields.remoteAddress = optionalText(addressPart);
  fields.remoteUser = user === undefined ? undefined : optionalText(unescaped(user));
  return true;
}

/**
 * Tells whether the first of several words before the ident is a virtual host (`example.com
 * 192.0.2.1`, `example.com:80 …`, `192.0.2.9 198.51.100.7, …`) rather than the start of a
 * forwarding list (`203.0.113.5, 10.0.0.1 …`, `"…" 10.0.0.1`). A bare IP address counts as a host
 * only when one address follows it or a comma list starts after it.
 */
function isVirtualHost(parts: string[]): boolean {
  if (parts.length < 2) return false;
  const first = parts[0];
  if (first.endsWith(',') || first.startsWith('"')) return false;
  if (isIP(first) === 0) return true;
  return parts.length === 2 || parts[1].endsWith(',');
}

/** Reads `"request"` (ending at a quote followed by a status) or a bare `-`. */
function readRequest(line: string, start: number): { text?: string; end: number } | undefined {
  if (line[start] === '-' && (line[start + 1] === ' ' || start + 1 === line.length)) return { end: start + 2 };
  if (line[start] !== '"') return undefined;
  let from = start + 1;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const quote = indexOfUnescaped(line, '"', from);
    if (quote < 0) return undefined;
    if (quote + 1 === line.length) return { text: line.slice(start + 1, quote), end: quote + 1 };
    if (line[quote + 1] === ' ' && isStatus(peekToken(line, quote + 2))) return { text: line.slice(start + 1, quote), end: quote + 2 };
    from = quote + 1;
  }
  return undefined;
}

function readToken(line: string, start: number): { text: string; end: number } | undefined {
  if (start >= line.length) return undefined;
  const space = line.indexOf(' ', start);
  const end = space < 0 ? line.length : space;
  return end > start ? { text: line.slice(start, end), end: space < 0 ? end : end + 1 } : undefined;
}

function peekToken(line: string, start: number): string {
  const space = line.indexOf(' ', start);
  return line.slice(start, space < 0 ? Math.min(line.length, start + 8) : Math.min(space, start + 8));
}

/** Tells whether a token is a three-digit status or `-`. */
export function isStatus(text: string): boolean {
  if (text === '-') return true;
  if (text.length !== 3) return false;
  for (let i = 0; i < 3; i++) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return true;
}

/** Reads `"value"` (ending at a quote followed by a space or the end) or a bare `-`. */
function readQuotedOrDash(line: string, start: number): { text: string; end: number } | undefined {
  if (start >= line.length) return undefined;
  if (line[start] === '-' && (line[start + 1] === ' ' || start + 1 === line.length)) return { text: '-', end: start + 1 };
  if (line[start] !== '"') return undefined;
  let from = start + 1;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const quote = indexOfUnescaped(line, '"', from);
    if (quote < 0) return undefined;
    if (quote + 1 === line.length || line[quote + 1] === ' ') return { text: line.slice(start + 1, quote), end: quote + 1 + (line[quote + 1] === ' ' ? 1 : 0) };
    from = quote + 1;
  }
  return undefined;
}

function unescaped(value: string): string | undefined {
  const text = optionalText(value);
  return text !== undefined && text.includes('\\') ? unescapeLogValue(text) : text;
}

/**
 * Fields some servers write after the user agent, tried in order on the rest of the line: nginx's
 * `main` format (X-Forwarded-For), Traefik's CLF (request count, router, server URL, duration) and
 * the ingress-nginx controller's default format.
 */
const TRAILERS: { name: string; split: LineSplitter; accept?: (values: Map<string, string>) => boolean }[] = [
  { name: 'forwarded', split: compileTemplate(nginxTokens('"$http_x_forwarded_for"')), accept: (values) => isAddressList(values.get('http_x_forwarded_for') ?? '') },
  { name: 'traefik', split: compileTemplate(nginxTokens('$request_count "$router_name" "$server_url" ${request_time_ms}ms')) },
  { name: 'ingress', split: compileTemplate(nginxTokens('$request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id')) },
];

/** Reads known trailing fields into `fields`; unknown trailers are left out. */
export function applyTrailers(fields: AccessFields, rest: string, zone: ZoneOffset): void {
  if (rest === '') return;
  for (const trailer of TRAILERS) {
    const values = trailer.split(rest);
    if (!values || (trailer.accept && !trailer.accept(values))) continue;
    const extra = fieldsFromVariables(values, fields.extraPrefix ?? 'http', zone);
    for (const [key, value] of Object.entries(extra)) {
      if (key === 'extra') fields.extra = { ...fields.extra, ...(value as Record<string, string>) };
      else if (key !== 'extraPrefix' && value !== undefined) (fields as Record<string, unknown>)[key] = value;
    }
    return;
  }
}

/** True for `-`, `unknown`, or text made only of address characters, commas and spaces. */
function isAddressList(text: string): boolean {
  if (text === '-' || text === '' || text === 'unknown') return true;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const ok = (code >= 48 && code <= 58) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102) || code === 46 || code === 44 || code === 32 || code === 91 || code === 93;
    if (!ok) return false;
  }
  return true;
}
