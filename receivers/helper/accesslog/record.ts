import Long from 'long';
import type { IKeyValue, ILogRecord } from '../../../core/otlp/codec.js';
import { keyValue } from '../../../core/otlp/attributes.js';
import type { AccessFields } from './fields.js';

/** OTLP severity numbers: INFO for an access line, WARN for 4xx, ERROR for 5xx. */
const SEVERITY_INFO = 9;
const SEVERITY_WARN = 13;
const SEVERITY_ERROR = 17;

/** Error-log levels of nginx, Apache and LiteSpeed, as OTLP severity numbers and texts. */
const LEVELS: Record<string, [number, string]> = {
  debug: [5, 'DEBUG'],
  info: [9, 'INFO'],
  notice: [10, 'INFO2'],
  warn: [13, 'WARN'],
  warning: [13, 'WARN'],
  error: [17, 'ERROR'],
  crit: [18, 'ERROR2'],
  alert: [19, 'ERROR3'],
  emerg: [21, 'FATAL'],
};

/** The last conversion, because the lines of a chunk mostly share their second and their receive time. */
let lastMs = NaN;
let lastNanos = Long.UZERO;

function nanos(ms: number): Long {
  if (ms === lastMs) return lastNanos;
  const whole = Math.floor(ms);
  const fraction = Math.round((ms - whole) * 1e6);
  lastMs = ms;
  lastNanos = Long.fromNumber(whole, true).mul(1_000_000).add(fraction);
  return lastNanos;
}

/**
 * Builds an attribute as a plain message object. Integers stay JavaScript numbers, because the
 * protobuf encoder writes a number as int64 directly, cheaper than building a Long for each, and
 * `anyValueToJs` reads both. The generated types name Long only, hence the cast.
 */
function attribute(key: string, value: string | number | string[]): IKeyValue {
  if (typeof value === 'string') return { key, value: { stringValue: value } };
  if (typeof value === 'number') return { key, value: Number.isInteger(value) ? { intValue: value as unknown as Long } : { doubleValue: value } };
  return { key, value: { arrayValue: { values: value.map((item) => ({ stringValue: item })) } } };
}

function severity(fields: AccessFields): [number, string] {
  if (fields.message !== undefined && fields.level !== undefined) {
    const level = fields.level.toLowerCase();
    return LEVELS[level] ?? (level.startsWith('trace') ? [1, 'TRACE'] : [SEVERITY_INFO, 'INFO']);
  }
  const status = fields.status ?? 0;
  return status >= 500 ? [SEVERITY_ERROR, 'ERROR'] : status >= 400 ? [SEVERITY_WARN, 'WARN'] : [SEVERITY_INFO, 'INFO'];
}

/** Splits a request target into path and query, and an absolute-form target into its parts too. */
function targetParts(target: string): { scheme?: string; host?: string; port?: number; path: string; query?: string } {
  let rest = target;
  let scheme: string | undefined;
  let host: string | undefined;
  let port: number | undefined;
  const schemeEnd = target.indexOf('://');
  if (schemeEnd > 0 && schemeEnd < 16 && /^[A-Za-z][A-Za-z0-9+.-]*$/.test(target.slice(0, schemeEnd))) {
    scheme = target.slice(0, schemeEnd).toLowerCase();
    const authorityStart = schemeEnd + 3;
    let authorityEnd = target.length;
    for (const stop of ['/', '?', '#']) {
      const index = target.indexOf(stop, authorityStart);
      if (index >= 0 && index < authorityEnd) authorityEnd = index;
    }
    const authority = target.slice(authorityStart, authorityEnd);
    const at = authority.lastIndexOf('@');
    const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
    const colon = hostPort.lastIndexOf(':');
    if (colon > 0 && !hostPort.endsWith(']') && /^\d+$/.test(hostPort.slice(colon + 1))) {
      host = hostPort.slice(0, colon);
      port = Number(hostPort.slice(colon + 1));
    } else {
      host = hostPort;
    }
    rest = target.slice(authorityEnd);
  }
  const question = rest.indexOf('?');
  return {
    scheme,
    host: host?.replace(/^\[(.*)\]$/, '$1'),
    port,
    path: question >= 0 ? rest.slice(0, question) : rest,
    query: question >= 0 ? rest.slice(question + 1) : undefined,
  };
}

/**
 * Builds the attributes of one access-log line. Names follow the OpenTelemetry semantic conventions for
 * HTTP servers (`http.request.method`, `url.path`, `client.address`, …); values a convention does
 * not cover are `<format>.<name>`.
 */
export function accessLogAttributes(fields: AccessFields): IKeyValue[] {
  const attributes: IKeyValue[] = [];
  const add = (key: string, value: string | number | string[] | undefined) => {
    if (value !== undefined && value !== '') attributes.push(attribute(key, value));
  };
  add('http.request.method', fields.method);
  const parts = fields.target === undefined ? undefined : targetParts(fields.target);
  if (parts) {
    if (parts.scheme !== undefined) add('url.full', fields.target);
    add('url.path', parts.path === '' && parts.scheme !== undefined ? '/' : parts.path);
    add('url.query', parts.query);
  }
  add('http.request.line', fields.requestLine);
  add('url.scheme', fields.scheme ?? parts?.scheme);
  add('http.route', fields.route);
  const slash = fields.protocol === undefined ? -1 : fields.protocol.indexOf('/');
  if (slash > 0) {
    // The conventions leave out the protocol name when it is `http`.
    const name = (fields.protocol as string).slice(0, slash).toLowerCase();
    if (name !== 'http') add('network.protocol.name', name);
    add('network.protocol.version', (fields.protocol as string).slice(slash + 1));
  }
  add('http.response.status_code', fields.status);
  add('client.address', fields.clientAddress ?? fields.remoteAddress);
  add('client.port', fields.clientAddress !== undefined ? fields.clientPort : fields.remotePort);
  add('network.peer.address', fields.peerAddress);
  add('user.id', fields.remoteUser);
  add('user_agent.original', fields.userAgent);
  add('http.request.header.referer', fields.referer === undefined ? undefined : [fields.referer]);
  add('http.request.header.x-forwarded-for', fields.xForwardedFor === undefined ? undefined : [fields.xForwardedFor]);
  add('http.response.body.size', fields.bodyBytesSent);
  add('http.response.size', fields.responseSize);
  add('http.request.size', fields.requestLength);
  add('http.request.body.size', fields.requestBodySize);
  add('http.server.request.duration', fields.requestTime);
  add('http.server.upstream.duration', fields.upstreamResponseTime);
  add('server.address', fields.host ?? parts?.host);
  add('server.port', fields.serverPort ?? parts?.port);
  add('upstream.address', fields.upstreamAddress);
  const prefix = fields.extraPrefix ?? 'http';
  add(`${prefix}.request_id`, fields.requestId);
  add(`${prefix}.message`, fields.message);
  add(`${prefix}.level`, fields.message !== undefined ? fields.level : undefined);
  if (fields.extra) for (const name in fields.extra) add(`${prefix}.${name}`, fields.extra[name]);
  return attributes;
}

/**
 * Builds the OTLP log record of one line: the line as read is the body, the event time comes from
 * the line (the receive time when it has none), and the attributes from `accessLogAttributes`.
 */
export function accessLogRecord(line: string, fields: AccessFields, observedMs: number, extra: IKeyValue[]): ILogRecord {
  const attributes = accessLogAttributes(fields);
  if (fields.format !== undefined) attributes.push(attribute('log.format', fields.format));
  for (const item of extra) attributes.push(item);
  const [severityNumber, severityText] = severity(fields);
  return {
    timeUnixNano: fields.timeMs !== undefined ? nanos(fields.timeMs) : Long.UZERO,
    observedTimeUnixNano: nanos(observedMs),
    severityNumber,
    severityText,
    body: { stringValue: line },
    attributes,
  };
}

/** Builds the record of a line that could not be parsed: the raw text, the receive time, and a marker. */
export function unparsedRecord(line: string, observedMs: number, extra: IKeyValue[], reason: string): ILogRecord {
  return {
    timeUnixNano: Long.UZERO,
    observedTimeUnixNano: nanos(observedMs),
    body: { stringValue: line },
    attributes: [keyValue('watchpost.parse.error', reason), ...extra],
  };
}
