import { addExtra, optionalNumber, optionalText, type AccessFields } from './fields.js';
import { indexOfUnescaped } from './template.js';
import { parseIsoTime, type ZoneOffset } from './time.js';

/** Connection types that start an Application Load Balancer log entry. */
const ALB_TYPES = new Set(['http', 'https', 'h2', 'grpcs', 'ws', 'wss']);
/** Fields an ALB entry has at least: up to the user agent. */
const ALB_MIN_FIELDS = 14;
/** Fields read from one line at most; later ALB versions append more. */
const MAX_FIELDS = 64;

/** Splits on spaces, keeping `"quoted values"` whole (quotes removed). */
export function splitQuotedFields(line: string): string[] | undefined {
  const fields: string[] = [];
  let position = 0;
  while (position < line.length && fields.length < MAX_FIELDS) {
    if (line[position] === '"') {
      let close = indexOfUnescaped(line, '"', position + 1);
      while (close >= 0 && close + 1 < line.length && line[close + 1] !== ' ') close = indexOfUnescaped(line, '"', close + 1);
      if (close < 0) return undefined;
      fields.push(line.slice(position + 1, close));
      position = close + 2;
    } else {
      const space = line.indexOf(' ', position);
      const end = space < 0 ? line.length : space;
      fields.push(line.slice(position, end));
      position = end + 1;
    }
  }
  return fields;
}

/**
 * Splits an ALB address field, `ip:port` with IPv6 addresses unbracketed, at its last colon.
 * The field is `-` when there was no address.
 */
function albAddress(field: string | undefined): { address?: string; port?: number } {
  if (field === undefined || field === '-') return {};
  const colon = field.lastIndexOf(':');
  if (colon < 0) return { address: field };
  return { address: field.slice(0, colon), port: optionalNumber(field.slice(colon + 1)) };
}

function seconds(field: string | undefined): number | undefined {
  const value = optionalNumber(field);
  return value === undefined || value < 0 ? undefined : value;
}

/** Reads an AWS Application Load Balancer access-log entry. */
export function parseAlb(line: string): AccessFields | undefined {
  const space = line.indexOf(' ');
  if (space < 0 || !ALB_TYPES.has(line.slice(0, space))) return undefined;
  const values = splitQuotedFields(line);
  if (!values || values.length < ALB_MIN_FIELDS) return undefined;
  const timeMs = parseIsoTime(values[1]);
  if (timeMs === undefined) return undefined;
  const fields: AccessFields = { extraPrefix: 'aws.alb', timeMs };
  const client = albAddress(values[3]);
  fields.remoteAddress = client.address;
  fields.remotePort = client.port;
  fields.upstreamAddress = optionalText(values[4]);
  const processing = [values[5], values[6], values[7]].map(seconds);
  if (processing.every((value) => value !== undefined)) fields.requestTime = (processing as number[]).reduce((a, b) => a + b, 0);
  fields.upstreamResponseTime = processing[1];
  fields.status = optionalNumber(values[8]);
  fields.requestLength = optionalNumber(values[10]);
  fields.responseSize = optionalNumber(values[11]);

  // `METHOD URL PROTOCOL`, each `-` when the request could not be read.
  const request = values[12].split(' ');
  if (request.length >= 3) {
    fields.method = optionalText(request[0]);
    fields.target = optionalText(request.slice(1, -1).join(' '));
    fields.protocol = optionalText(request[request.length - 1]);
  } else {
    fields.requestLine = optionalText(values[12]);
  }
  fields.userAgent = optionalText(values[13]);
  fields.host = optionalText(values[18]);
  addExtra(fields, 'type', values[0]);
  addExtra(fields, 'elb', values[2]);
  addExtra(fields, 'target_status_code', values[9]);
  addExtra(fields, 'ssl_cipher', values[14]);
  addExtra(fields, 'ssl_protocol', values[15]);
  addExtra(fields, 'target_group_arn', values[16]);
  addExtra(fields, 'trace_id', values[17]);
  addExtra(fields, 'actions_executed', values[22]);
  addExtra(fields, 'redirect_url', values[23]);
  addExtra(fields, 'error_reason', values[24]);
  addExtra(fields, 'classification', values[27]);
  addExtra(fields, 'classification_reason', values[28]);
  return fields;
}

/**
 * The fields of CloudFront's standard (legacy) access logs, tab-separated in this order; later
 * versions append fields, which are read as extras by position.
 */
const CLOUDFRONT_FIELDS = ['date', 'time', 'x-edge-location', 'sc-bytes', 'c-ip', 'cs-method', 'cs(Host)', 'cs-uri-stem', 'sc-status', 'cs(Referer)', 'cs(User-Agent)', 'cs-uri-query', 'cs(Cookie)', 'x-edge-result-type', 'x-edge-request-id', 'x-host-header', 'cs-protocol', 'cs-bytes', 'time-taken', 'x-forwarded-for', 'ssl-protocol', 'ssl-cipher', 'x-edge-response-result-type', 'cs-protocol-version', 'fle-status', 'fle-encrypted-fields', 'c-port', 'time-to-first-byte', 'x-edge-detailed-result-type', 'sc-content-type', 'sc-content-len', 'sc-range-start', 'sc-range-end'];

/** CloudFront writes user agents and referers percent-encoded; a malformed escape keeps the text. */
function decoded(value: string | undefined): string | undefined {
  const text = optionalText(value);
  if (text === undefined || !text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Reads an Amazon CloudFront standard access-log entry (tab-separated, W3C field order). */
export function parseCloudFront(line: string, zone: ZoneOffset): AccessFields | undefined {
  if (line[4] !== '-' || line[10] !== '\t') return undefined;
  const values = line.split('\t', CLOUDFRONT_FIELDS.length + 8);
  if (values.length < 19) return undefined;
  const timeMs = parseIsoTime(`${values[0]}T${values[1]}Z`, zone);
  if (timeMs === undefined) return undefined;
  const field = (name: string) => values[CLOUDFRONT_FIELDS.indexOf(name)];
  const fields: AccessFields = { extraPrefix: 'aws.cloudfront', timeMs };
  fields.remoteAddress = optionalText(field('c-ip'));
  fields.remotePort = optionalNumber(field('c-port'));
  fields.method = optionalText(field('cs-method'));
  const query = optionalText(field('cs-uri-query'));
  const stem = optionalText(field('cs-uri-stem'));
  if (stem !== undefined) fields.target = query === undefined ? stem : `${stem}?${query}`;
  fields.status = optionalNumber(field('sc-status'));
  fields.referer = decoded(field('cs(Referer)'));
  fields.userAgent = decoded(field('cs(User-Agent)'));
  fields.host = optionalText(field('x-host-header')) ?? optionalText(field('cs(Host)'));
  fields.scheme = optionalText(field('cs-protocol'));
  fields.protocol = optionalText(field('cs-protocol-version'));
  fields.requestLength = optionalNumber(field('cs-bytes'));
  fields.responseSize = optionalNumber(field('sc-bytes'));
  fields.bodyBytesSent = optionalNumber(field('sc-content-len'));
  fields.requestTime = optionalNumber(field('time-taken'));
  fields.xForwardedFor = optionalText(field('x-forwarded-for'));
  fields.requestId = optionalText(field('x-edge-request-id'));
  addExtra(fields, 'edge_location', field('x-edge-location'));
  addExtra(fields, 'edge_result_type', field('x-edge-result-type'));
  addExtra(fields, 'distribution_host', field('cs(Host)'));
  return fields;
}
