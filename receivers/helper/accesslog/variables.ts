import { addExtra, optionalNumber, optionalText, splitRequestLine, type AccessFields } from './fields.js';
import { unescapeLogValue } from './escape.js';
import { parseAnyTime, parseCommonLogTime, parseEpochSeconds, type ZoneOffset } from './time.js';
import type { FieldMap } from './template.js';

/**
 * Maps template variables to access fields. Variable names are nginx's; the Apache reader
 * translates its directives to these names, adding a few of its own (`request_time_us`). Unknown
 * variables become `<prefix>.<name>` attributes.
 */
export function fieldsFromVariables(values: FieldMap, prefix: string, zone: ZoneOffset): AccessFields {
  const fields: AccessFields = { extraPrefix: prefix };
  let uri: string | undefined;
  let args: string | undefined;
  for (const [name, raw] of values) {
    if (name === 'request') {
      applyRequestLine(fields, raw);
      continue;
    }
    const value = raw.includes('\\') ? unescapeLogValue(raw) : raw;
    if (name === 'uri') uri = optionalText(value);
    else if (name === 'args' || name === 'query_string') args = optionalText(value);
    else applyVariable(fields, name, value, zone);
  }
  if (fields.target === undefined && uri !== undefined) fields.target = args ? `${uri}?${args.startsWith('?') ? args.slice(1) : args}` : uri;
  return fields;
}

/**
 * Splits a logged request line. The method and target are unescaped, because nginx writes `"` and
 * bytes above 0x7F as `\xHH`. A line that is not a request, such as a TLS handshake sent to the
 * HTTP port, is kept as logged, because unescaping binary data gives unreadable text.
 */
export function applyRequestLine(fields: AccessFields, raw: string): void {
  const split = splitRequestLine(raw);
  if (!split) {
    if (optionalText(raw) !== undefined) fields.requestLine = raw;
    return;
  }
  fields.method = split.method;
  fields.target = split.target !== undefined && split.target.includes('\\') ? unescapeLogValue(split.target) : split.target;
  fields.protocol = split.protocol;
}

function applyVariable(fields: AccessFields, name: string, value: string, zone: ZoneOffset): void {
  switch (name) {
    case 'remote_addr': fields.remoteAddress = optionalText(value); break;
    case 'remote_port': fields.remotePort = optionalNumber(value); break;
    case 'remote_user': fields.remoteUser = optionalText(value); break;
    case 'time_local': fields.timeMs = parseCommonLogTime(value, zone); break;
    case 'time_iso8601': case 'time_any': fields.timeMs = parseAnyTime(value, zone); break;
    case 'msec': fields.timeMs = parseEpochSeconds(value); break;
    case 'time_epoch_ms': fields.timeMs = optionalNumber(value); break;
    case 'request_method': fields.method = optionalText(value); break;
    case 'request_uri': fields.target = optionalText(value); break;
    case 'server_protocol': fields.protocol = optionalText(value); break;
    case 'status': fields.status = optionalNumber(value); break;
    case 'body_bytes_sent': fields.bodyBytesSent = optionalNumber(value); break;
    case 'request_length': fields.requestLength = optionalNumber(value); break;
    case 'content_length': case 'request_body_length': fields.requestBodySize = optionalNumber(value); break;
    case 'http_referer': fields.referer = optionalText(value); break;
    case 'http_user_agent': fields.userAgent = optionalText(value); break;
    case 'request_time': fields.requestTime = optionalNumber(value); break;
    case 'request_time_ms': fields.requestTime = scaled(value, 1e-3); break;
    case 'request_time_us': fields.requestTime = scaled(value, 1e-6); break;
    case 'upstream_response_time': fields.upstreamResponseTime = sumOfTimes(value); break;
    case 'upstream_service_time_ms': fields.upstreamResponseTime = scaled(value, 1e-3); break;
    case 'host': case 'http_host': case 'server_name': fields.host ??= optionalText(value); break;
    case 'server_port': fields.serverPort = optionalNumber(value); break;
    case 'scheme': fields.scheme = optionalText(value); break;
    case 'http_x_forwarded_for': fields.xForwardedFor = optionalText(value); break;
    case 'upstream_addr': fields.upstreamAddress = optionalText(value); break;
    case 'request_id': case 'req_id': case 'http_x_request_id': fields.requestId = optionalText(value); break;
    default: addExtra(fields, name, value);
  }
}

function scaled(value: string, factor: number): number | undefined {
  const number = optionalNumber(value);
  return number === undefined ? undefined : number * factor;
}

/**
 * `$upstream_response_time` lists one time per upstream tried, `, ` between attempts and ` : `
 * between upstream groups (`0.012, 0.003 : 0.100`); their sum is the time spent upstream.
 */
function sumOfTimes(value: string): number | undefined {
  let total: number | undefined;
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    if (i < value.length && value[i] !== ',' && value[i] !== ':') continue;
    const number = optionalNumber(value.slice(start, i).trim());
    if (number !== undefined) total = (total ?? 0) + number;
    start = i + 1;
  }
  return total;
}
