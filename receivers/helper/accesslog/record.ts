import Long from 'long';
import type { IKeyValue, ILogRecord } from '../../../core/otlp/codec.js';
import { keyValue } from '../../../core/otlp/attributes.js';
import type { AccessFields } from './fields.js';

/** OTLP severity numbers used for access logs: INFO, WARN for 4xx, ERROR for 5xx. */
const SEVERITY_INFO = 9;
const SEVERITY_WARN = 13;
const SEVERITY_ERROR = 17;

function nanos(ms: number): Long {
  const whole = Math.floor(ms);
  const fraction = Math.round((ms - whole) * 1e6);
  return Long.fromNumber(whole, true).mul(1_000_000).add(fraction);
}

/**
 * Builds the OTLP log record of one access-log line. Attribute names follow the OpenTelemetry
 * semantic conventions for HTTP servers; the body is the line as read.
 */
export function accessLogRecord(line: string, fields: AccessFields, observedMs: number, extra: IKeyValue[]): ILogRecord {
  const attributes: IKeyValue[] = [];
  const add = (key: string, value: string | number | undefined) => {
    if (value !== undefined) attributes.push(keyValue(key, value));
  };
  const target = fields.target;
  const query = target?.indexOf('?') ?? -1;
  add('http.request.method', fields.method);
  if (target !== undefined) {
    add('url.path', query >= 0 ? target.slice(0, query) : target);
    if (query >= 0) add('url.query', target.slice(query + 1));
  } else {
    add('http.request.line', fields.requestLine);
  }
  if (fields.protocol?.includes('/')) {
    add('network.protocol.name', fields.protocol.split('/')[0].toLowerCase());
    add('network.protocol.version', fields.protocol.split('/')[1]);
  }
  add('http.response.status_code', fields.status);
  add('client.address', fields.remoteAddress);
  add('client.port', fields.remotePort);
  add('user.id', fields.remoteUser);
  add('user_agent.original', fields.userAgent);
  add('http.request.header.referer', fields.referer);
  add('http.request.header.x-forwarded-for', fields.xForwardedFor);
  add('http.response.body.size', fields.bodyBytesSent);
  add('http.request.size', fields.requestLength);
  add('http.server.request.duration', fields.requestTime);
  add('http.server.upstream.duration', fields.upstreamResponseTime);
  add('server.address', fields.host);
  add('url.scheme', fields.scheme);
  add('upstream.address', fields.upstreamAddress);
  for (const [name, value] of Object.entries(fields.extra ?? {})) add(`nginx.${name}`, value);
  attributes.push(...extra);

  const status = fields.status ?? 0;
  return {
    timeUnixNano: fields.timeMs !== undefined ? nanos(fields.timeMs) : Long.UZERO,
    observedTimeUnixNano: nanos(observedMs),
    severityNumber: status >= 500 ? SEVERITY_ERROR : status >= 400 ? SEVERITY_WARN : SEVERITY_INFO,
    severityText: status >= 500 ? 'ERROR' : status >= 400 ? 'WARN' : 'INFO',
    body: { stringValue: line },
    attributes,
  };
}

/** The record of a line that could not be parsed: the raw text, the receive time, and a marker. */
export function unparsedRecord(line: string, observedMs: number, extra: IKeyValue[], reason: string): ILogRecord {
  return {
    timeUnixNano: Long.UZERO,
    observedTimeUnixNano: nanos(observedMs),
    body: { stringValue: line },
    attributes: [keyValue('watchpost.parse.error', reason), ...extra],
  };
}
