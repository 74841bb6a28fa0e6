import type { IKeyValue, ILogRecord, ISpan } from '../otlp/codec.js';
import { nanosToMillis, numberAttribute, stringAttribute } from '../otlp/attributes.js';

/**
 * The one view of an HTTP request that every detector and rule reads, built from a SERVER span
 * or from an access-log record. Field names are the OpenTelemetry semantic-convention attribute
 * names, so rules use the names users already know.
 */
export interface HttpEvent {
  /** Event time in milliseconds since the epoch. */
  time: number;
  'http.request.method'?: string;
  'url.scheme'?: string;
  'url.path'?: string;
  'url.query'?: string;
  'http.route'?: string;
  'http.response.status_code'?: number;
  'client.address'?: string;
  'user_agent.original'?: string;
  'server.address'?: string;
  'user.id'?: string;
  'service.name'?: string;
  /** Seconds. */
  'http.server.request.duration'?: number;
  'http.response.body.size'?: number;
  trace_id?: string;
  span_id?: string;
}

export type EventField = Exclude<keyof HttpEvent, 'time'>;

/** Fields a rule may name, with their types, for rule validation. */
export const EVENT_FIELDS: Record<string, 'string' | 'number'> = {
  'http.request.method': 'string',
  'url.scheme': 'string',
  'url.path': 'string',
  'url.query': 'string',
  'http.route': 'string',
  'http.response.status_code': 'number',
  'client.address': 'string',
  'user_agent.original': 'string',
  'server.address': 'string',
  'user.id': 'string',
  'service.name': 'string',
  'http.server.request.duration': 'number',
  'http.response.body.size': 'number',
  trace_id: 'string',
  span_id: 'string',
};

function first(attributes: IKeyValue[] | null | undefined, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = stringAttribute(attributes, key);
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

function firstNumber(attributes: IKeyValue[] | null | undefined, ...keys: string[]): number | undefined {
  for (const key of keys) {
    const value = numberAttribute(attributes, key);
    if (value !== undefined) return value;
  }
  return undefined;
}

function hex(bytes: Uint8Array | null | undefined): string | undefined {
  if (!bytes || bytes.length === 0) return undefined;
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** Fills path and query from `url.full` or the older `http.target` when the newer attributes are missing. */
function fillUrl(event: HttpEvent, attributes: IKeyValue[] | null | undefined): void {
  if (event['url.path'] !== undefined) return;
  const target = first(attributes, 'http.target', 'url.full', 'http.url');
  if (!target) return;
  let pathAndQuery = target;
  const scheme = target.indexOf('://');
  if (scheme > 0) {
    const slash = target.indexOf('/', scheme + 3);
    pathAndQuery = slash >= 0 ? target.slice(slash) : '/';
  }
  const question = pathAndQuery.indexOf('?');
  event['url.path'] = question >= 0 ? pathAndQuery.slice(0, question) : pathAndQuery;
  if (question >= 0 && event['url.query'] === undefined) event['url.query'] = pathAndQuery.slice(question + 1);
}

/** Reads the fields both spans and log records carry, from current and older convention names. */
function readCommon(event: HttpEvent, attributes: IKeyValue[] | null | undefined, serviceName: string | undefined): void {
  event['http.request.method'] = first(attributes, 'http.request.method', 'http.method');
  event['url.scheme'] = first(attributes, 'url.scheme', 'http.scheme');
  event['url.path'] = first(attributes, 'url.path');
  event['url.query'] = first(attributes, 'url.query');
  fillUrl(event, attributes);
  event['http.route'] = first(attributes, 'http.route');
  event['http.response.status_code'] = firstNumber(attributes, 'http.response.status_code', 'http.status_code');
  event['client.address'] = first(attributes, 'client.address', 'http.client_ip', 'net.sock.peer.addr', 'net.peer.ip', 'network.peer.address');
  event['user_agent.original'] = first(attributes, 'user_agent.original', 'http.user_agent');
  event['server.address'] = first(attributes, 'server.address', 'http.host', 'net.host.name');
  event['user.id'] = first(attributes, 'user.id', 'enduser.id');
  event['http.response.body.size'] = firstNumber(attributes, 'http.response.body.size', 'http.response_content_length');
  event['service.name'] = serviceName;
}

/** SpanKind SERVER in OTLP. */
const SPAN_KIND_SERVER = 2;

/** Builds the event of a SERVER span with HTTP attributes; other spans give undefined. */
export function eventFromSpan(span: ISpan, serviceName: string | undefined): HttpEvent | undefined {
  if (span.kind !== SPAN_KIND_SERVER) return undefined;
  const event: HttpEvent = { time: nanosToMillis(span.startTimeUnixNano) };
  readCommon(event, span.attributes, serviceName);
  if (event['http.request.method'] === undefined && event['url.path'] === undefined) return undefined;
  const end = nanosToMillis(span.endTimeUnixNano);
  if (end >= event.time && event.time > 0) event['http.server.request.duration'] = (end - event.time) / 1000;
  event.trace_id = hex(span.traceId);
  event.span_id = hex(span.spanId);
  return event;
}

/** Builds the event of a log record that describes an HTTP request (an access-log line); others give undefined. */
export function eventFromLogRecord(record: ILogRecord, serviceName: string | undefined): HttpEvent | undefined {
  const attributes = record.attributes;
  if (!attributes || attributes.length === 0) return undefined;
  const time = nanosToMillis(record.timeUnixNano) || nanosToMillis(record.observedTimeUnixNano);
  const event: HttpEvent = { time };
  readCommon(event, attributes, serviceName);
  if (event['http.request.method'] === undefined && event['url.path'] === undefined) return undefined;
  event['http.server.request.duration'] = firstNumber(attributes, 'http.server.request.duration');
  event.trace_id = hex(record.traceId);
  event.span_id = hex(record.spanId);
  return event;
}
