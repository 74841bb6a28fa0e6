import { optionalNumber, optionalText, parseCommonLogTime, splitRequestLine, type AccessFields } from './fields.js';
import { unescapeLogValue } from './escape.js';

/** nginx's predefined `combined` format. */
export const NGINX_COMBINED = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

/** The `main` format of nginx's sample configuration: `combined` plus X-Forwarded-For. */
export const NGINX_MAIN = `${NGINX_COMBINED} "$http_x_forwarded_for"`;

type Token = { kind: 'literal'; text: string } | { kind: 'variable'; name: string };

/** Variables whose value must look a certain way; a wrong split is retried at the next delimiter. */
const VALUE_SHAPES: Record<string, RegExp> = {
  status: /^\d{3}$/,
  body_bytes_sent: /^(?:\d+|-)$/,
  bytes_sent: /^(?:\d+|-)$/,
};

/** How many later delimiters a field may try when the first split gives a malformed next field. */
const MAX_SPLIT_ATTEMPTS = 16;

export type FieldMap = Map<string, string>;
export type LineSplitter = (line: string) => FieldMap | undefined;

/**
 * Compiles an nginx `log_format` string into a line splitter. The splitter scans the line once
 * per field, with no regular expressions on the line itself, so its cost stays linear in the
 * line length whatever an attacker puts into the request or user agent.
 *
 * A field ends at the next occurrence of the literal text that follows it in the format. The
 * last field ends at the format's final literal, counted from the line's end, so a stray quote
 * in a user agent does not cut it short.
 */
export function compileNginxFormat(format: string): LineSplitter {
  const tokens = tokenize(format);
  for (let i = 1; i < tokens.length; i++) {
    if (tokens[i].kind === 'variable' && tokens[i - 1].kind === 'variable') {
      throw new Error(`log_format: variables $${(tokens[i - 1] as { name: string }).name} and $${(tokens[i] as { name: string }).name} have no text between them, so the line cannot be split`);
    }
  }
  const lastVariable = tokens.map((token) => token.kind).lastIndexOf('variable');

  return (line) => {
    const fields: FieldMap = new Map();
    let position = 0;
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i];
      if (token.kind === 'literal') {
        if (!line.startsWith(token.text, position)) return undefined;
        position += token.text.length;
        continue;
      }
      const next = tokens[i + 1] as { kind: 'literal'; text: string } | undefined;
      const end = fieldEnd(line, position, next?.text, i === lastVariable, tokens[i + 2]);
      if (end < 0) return undefined;
      fields.set(token.name, line.slice(position, end));
      position = end;
    }
    return position === line.length ? fields : undefined;
  };
}

function fieldEnd(line: string, start: number, delimiter: string | undefined, isLastField: boolean, following: Token | undefined): number {
  if (delimiter === undefined) return line.length;
  if (isLastField) {
    const end = line.length - delimiter.length;
    return end >= start && line.endsWith(delimiter) ? end : -1;
  }
  const shape = following?.kind === 'variable' ? VALUE_SHAPES[following.name] : undefined;
  let from = start;
  for (let attempt = 0; attempt < MAX_SPLIT_ATTEMPTS; attempt++) {
    const end = indexOfUnescaped(line, delimiter, from);
    if (end < 0) return -1;
    if (!shape || shape.test(peekField(line, end + delimiter.length))) return end;
    from = end + 1;
  }
  return -1;
}

/** Finds `delimiter` at or after `from`, skipping occurrences escaped by an odd number of backslashes. */
function indexOfUnescaped(line: string, delimiter: string, from: number): number {
  let index = line.indexOf(delimiter, from);
  while (index > 0) {
    let backslashes = 0;
    for (let j = index - 1; j >= from && line.charCodeAt(j) === 0x5c; j--) backslashes++;
    if (backslashes % 2 === 0) return index;
    index = line.indexOf(delimiter, index + 1);
  }
  return index;
}

/** The text from `start` to the next space, at most 32 characters, for a shape check. */
function peekField(line: string, start: number): string {
  const space = line.indexOf(' ', start);
  const end = space < 0 ? line.length : Math.min(space, start + 32);
  return line.slice(start, end);
}

function tokenize(format: string): Token[] {
  const tokens: Token[] = [];
  let literal = '';
  for (let i = 0; i < format.length; i++) {
    if (format[i] !== '$') {
      literal += format[i];
      continue;
    }
    const braced = format[i + 1] === '{';
    const match = /^[A-Za-z0-9_]+/.exec(format.slice(braced ? i + 2 : i + 1));
    if (!match) {
      literal += '$';
      continue;
    }
    if (literal) tokens.push({ kind: 'literal', text: literal });
    literal = '';
    tokens.push({ kind: 'variable', name: match[0] });
    i += match[0].length + (braced ? 2 : 0);
  }
  if (literal) tokens.push({ kind: 'literal', text: literal });
  return tokens;
}

/** Maps nginx variables to access fields; unknown variables go to `extra`. */
export function nginxFields(values: FieldMap): AccessFields {
  const fields: AccessFields = {};
  for (const [name, raw] of values) {
    const value = raw.includes('\\') ? unescapeLogValue(raw) : raw;
    applyVariable(fields, name, value);
  }
  if (!fields.method && fields.requestLine) Object.assign(fields, splitRequestLine(fields.requestLine) ?? {});
  return fields;
}

function applyVariable(fields: AccessFields, name: string, value: string): void {
  switch (name) {
    case 'remote_addr': fields.remoteAddress = optionalText(value); break;
    case 'remote_port': fields.remotePort = optionalNumber(value); break;
    case 'remote_user': fields.remoteUser = optionalText(value); break;
    case 'time_local': fields.timeMs = parseCommonLogTime(value); break;
    case 'time_iso8601': fields.timeMs = optionalTime(value); break;
    case 'msec': fields.timeMs = optionalNumber(value) === undefined ? undefined : Number(value) * 1000; break;
    case 'request': fields.requestLine = value; break;
    case 'request_method': fields.method = optionalText(value); break;
    case 'request_uri': fields.target = optionalText(value); break;
    case 'server_protocol': fields.protocol = optionalText(value); break;
    case 'status': fields.status = optionalNumber(value); break;
    case 'body_bytes_sent': fields.bodyBytesSent = optionalNumber(value); break;
    case 'request_length': fields.requestLength = optionalNumber(value); break;
    case 'http_referer': fields.referer = optionalText(value); break;
    case 'http_user_agent': fields.userAgent = optionalText(value); break;
    case 'request_time': fields.requestTime = optionalNumber(value); break;
    case 'upstream_response_time': fields.upstreamResponseTime = firstNumber(value); break;
    case 'host': case 'http_host': case 'server_name': fields.host ??= optionalText(value); break;
    case 'scheme': fields.scheme = optionalText(value); break;
    case 'http_x_forwarded_for': fields.xForwardedFor = optionalText(value); break;
    case 'upstream_addr': fields.upstreamAddress = optionalText(value); break;
    default:
      if (optionalText(value) !== undefined) (fields.extra ??= {})[name] = value;
  }
}

function optionalTime(value: string): number | undefined {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `$upstream_response_time` lists one time per upstream tried (`0.012, 0.003 : 0.100`); the sum is the upstream's share. */
function firstNumber(value: string): number | undefined {
  let total: number | undefined;
  for (const part of value.split(/[,:]/)) {
    const number = optionalNumber(part.trim());
    if (number !== undefined) total = (total ?? 0) + number;
  }
  return total;
}
