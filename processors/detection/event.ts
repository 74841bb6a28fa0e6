import type { IKeyValue, ILogRecord, ISpan } from '../../core/otlp/codec.js';
import { anyValueToJs, nanosToMillis, numberAttribute, stringAttribute } from '../../core/otlp/attributes.js';
import { inAnyCidr, parseAddress, type Cidr } from '../../core/cidr.js';
import type { IdentitySource } from './config.js';
import { apiKeyFingerprint, bearerToken, decodeJwt, type JwtClaims } from './identity.js';
import { objectId, routeTemplate } from './route.js';
import { percentDecode } from './decode.js';

/**
 * The one view of an HTTP request that every detector and rule reads, built from a SERVER span
 * or from an access-log record. Field names are the OpenTelemetry semantic-convention attribute
 * names where one exists, so rules use the names users already know.
 */
export interface HttpEvent {
  /** Event time in milliseconds since the epoch. */
  time: number;
  'http.request.method'?: string;
  'url.scheme'?: string;
  'url.path'?: string;
  'url.query'?: string;
  /** The request line as logged, when the gateway could not split it into method and target. */
  'http.request.line'?: string;
  /** The route template the telemetry gave, or one made from the path (identifier segments become `{id}`). */
  'http.route'?: string;
  'http.response.status_code'?: number;
  /** The client, after trusted-proxy handling of `X-Forwarded-For`. */
  'client.address'?: string;
  /** The peer that connected, when it differs from the client (a trusted proxy). */
  'network.peer.address'?: string;
  'user_agent.original'?: string;
  'server.address'?: string;
  /** The identity the request claims, from the configured sources; not verified. */
  'user.id'?: string;
  /** A keyed hash of the API key the request carried; the key itself never enters the event. */
  'api_key.fingerprint'?: string;
  /** The path segment under the route's last parameter, such as `1234` in `/orders/1234`. */
  'object.id'?: string;
  'service.name'?: string;
  /** Seconds. */
  'http.server.request.duration'?: number;
  /** Bytes. */
  'http.response.body.size'?: number;
  /** Bytes. */
  'http.request.body.size'?: number;
  trace_id?: string;
  span_id?: string;
  /** Request headers the telemetry carried, by lower-case name. Rules address them as `http.request.header.<name>`. */
  headers?: Record<string, string>;
  /** The bearer JWT's header and claims, decoded without verification. */
  jwt?: JwtClaims;
}

export type EventField = Exclude<keyof HttpEvent, 'time' | 'headers' | 'jwt'>;

/** Fields a rule may name, with their types, for rule validation. Headers are `http.request.header.<name>`. */
export const EVENT_FIELDS: Record<string, 'string' | 'number'> = {
  'http.request.method': 'string',
  'url.scheme': 'string',
  'url.path': 'string',
  'url.query': 'string',
  'http.request.line': 'string',
  'http.route': 'string',
  'http.response.status_code': 'number',
  'client.address': 'string',
  'network.peer.address': 'string',
  'user_agent.original': 'string',
  'server.address': 'string',
  'user.id': 'string',
  'api_key.fingerprint': 'string',
  'object.id': 'string',
  'service.name': 'string',
  'http.server.request.duration': 'number',
  'http.response.body.size': 'number',
  'http.request.body.size': 'number',
  trace_id: 'string',
  span_id: 'string',
};

export const HEADER_FIELD_PREFIX = 'http.request.header.';

/** Headers whose values are credentials; rules may test them but never group by them or carry them into findings. */
export const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token', 'x-csrf-token']);

/** Maximum number of headers kept per event, and maximum length of a kept value, in characters. */
const MAX_HEADERS = 48;
const MAX_HEADER_LENGTH = 8192;

/** Reads a field of an event by its rule name, headers included. */
export function eventField(event: HttpEvent, field: string): string | number | undefined {
  if (field.startsWith(HEADER_FIELD_PREFIX)) return event.headers?.[field.slice(HEADER_FIELD_PREFIX.length)];
  return (event as unknown as Record<string, string | number | undefined>)[field];
}

/** Settings event extraction takes from the processor config. */
export interface ExtractOptions {
  trustedProxies: Cidr[];
  identitySources: IdentitySource[];
  apiKeyHeaders: string[];
  apiKeyQueryParameters: string[];
  /** The HMAC key for API key fingerprints. */
  apiKeyHashKey: string;
}

export const DEFAULT_EXTRACT_OPTIONS: ExtractOptions = {
  trustedProxies: [],
  identitySources: [{ type: 'attribute', name: 'user.id' }, { type: 'attribute', name: 'enduser.id' }, { type: 'jwt_sub', name: 'authorization' }],
  apiKeyHeaders: ['x-api-key'],
  apiKeyQueryParameters: ['api_key', 'apikey'],
  apiKeyHashKey: 'watchpost-test-key',
};

type Attributes = IKeyValue[] | null | undefined;

function first(attributes: Attributes, ...keys: string[]): string | undefined {
  for (const key of keys) {
    const value = stringAttribute(attributes, key);
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

function firstNumber(attributes: Attributes, ...keys: string[]): number | undefined {
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
function fillUrl(event: HttpEvent, attributes: Attributes): void {
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

/**
 * Collects request headers: `http.request.header.<name>` attributes (a string array in the
 * semantic conventions, joined with `, `) and nginx `$http_<name>` variables that custom log
 * formats turn into `nginx.http_<name>` attributes.
 */
function readHeaders(attributes: Attributes): Record<string, string> | undefined {
  if (!attributes) return undefined;
  let headers: Record<string, string> | undefined;
  let count = 0;
  for (const attribute of attributes) {
    const key = attribute.key ?? '';
    let name: string | undefined;
    if (key.startsWith(HEADER_FIELD_PREFIX)) name = key.slice(HEADER_FIELD_PREFIX.length).toLowerCase();
    else if (key.startsWith('nginx.http_')) name = key.slice('nginx.http_'.length).replaceAll('_', '-').toLowerCase();
    if (!name || count >= MAX_HEADERS) continue;
    const value = anyValueToJs(attribute.value);
    let text: string | undefined;
    if (Array.isArray(value)) text = value.map(String).join(', ');
    else if (typeof value === 'string' || typeof value === 'number') text = String(value);
    if (text === undefined || text === '' || text === '-') continue;
    (headers ??= {})[name] = text.length > MAX_HEADER_LENGTH ? text.slice(0, MAX_HEADER_LENGTH) : text;
    count++;
  }
  return headers;
}

/** Reads the fields both spans and log records carry, from current and older convention names. */
function readCommon(event: HttpEvent, attributes: Attributes, serviceName: string | undefined): void {
  event['http.request.method'] = first(attributes, 'http.request.method', 'http.method');
  event['url.scheme'] = first(attributes, 'url.scheme', 'http.scheme');
  event['url.path'] = first(attributes, 'url.path');
  event['url.query'] = first(attributes, 'url.query');
  fillUrl(event, attributes);
  event['http.route'] = first(attributes, 'http.route');
  event['http.response.status_code'] = firstNumber(attributes, 'http.response.status_code', 'http.status_code');
  event['client.address'] = first(attributes, 'client.address', 'http.client_ip', 'net.sock.peer.addr', 'net.peer.ip');
  event['network.peer.address'] = first(attributes, 'network.peer.address', 'net.sock.peer.addr');
  event['user_agent.original'] = first(attributes, 'user_agent.original', 'http.user_agent');
  event['server.address'] = first(attributes, 'server.address', 'http.host', 'net.host.name');
  event['http.response.body.size'] = firstNumber(attributes, 'http.response.body.size', 'http.response_content_length');
  event['http.request.body.size'] = firstNumber(attributes, 'http.request.body.size', 'http.request_content_length');
  event['service.name'] = serviceName;
  event.headers = readHeaders(attributes);
}

/**
 * Replaces the client address with the one a trusted proxy reported. The peer is the address that
 * connected. When it is a trusted proxy, `X-Forwarded-For` is read from the right, skipping
 * trusted proxies, and the first other address is the client. Entries to the left of it were
 * written by the client itself, so they are not trusted.
 */
export function resolveClientAddress(event: HttpEvent, trustedProxies: readonly Cidr[]): void {
  const peer = event['network.peer.address'] ?? event['client.address'];
  event['client.address'] ??= peer;
  const forwarded = trustedProxies.length > 0 && peer && inAnyCidr(trustedProxies, peer) ? forwardedAddresses(event.headers) : [];
  if (!peer || forwarded.length === 0) {
    // Without a trusted proxy's header the recorded client address is kept, since instrumentation may have set it from one already.
    if (event['network.peer.address'] === event['client.address']) delete event['network.peer.address'];
    return;
  }
  let client = peer;
  for (let i = forwarded.length - 1; i >= 0; i--) {
    client = forwarded[i];
    if (!inAnyCidr(trustedProxies, client)) break;
  }
  event['network.peer.address'] = peer;
  event['client.address'] = client;
  if (client === peer) delete event['network.peer.address'];
}

/** Reads the addresses of `X-Forwarded-For`, or the `for=` parameters of `Forwarded` (RFC 7239), left to right. */
function forwardedAddresses(headers: Record<string, string> | undefined): string[] {
  if (!headers) return [];
  const addresses: string[] = [];
  const list = headers['x-forwarded-for'];
  if (list) {
    for (const part of list.split(',').slice(-32)) {
      const address = stripPort(part.trim());
      if (parseAddress(address)) addresses.push(address);
    }
    return addresses;
  }
  const forwarded = headers.forwarded;
  if (!forwarded) return addresses;
  for (const element of forwarded.split(',').slice(-32)) {
    for (const pair of element.split(';')) {
      const [name, value] = pair.split('=');
      if (name?.trim().toLowerCase() !== 'for' || value === undefined) continue;
      const address = stripPort(value.trim().replace(/^"|"$/g, ''));
      if (parseAddress(address)) addresses.push(address);
    }
  }
  return addresses;
}

/** Removes a port: `[2001:db8::1]:443` becomes `2001:db8::1`, `198.51.100.7:8080` becomes `198.51.100.7`. */
function stripPort(text: string): string {
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    return end > 0 ? text.slice(1, end) : text;
  }
  const colon = text.indexOf(':');
  return colon > 0 && text.indexOf(':', colon + 1) < 0 ? text.slice(0, colon) : text;
}

/** Finds a query parameter's decoded value by name, without splitting the whole query. */
export function queryParameter(query: string | undefined, names: string[]): string | undefined {
  if (!query || names.length === 0) return undefined;
  for (const part of query.split('&')) {
    const equals = part.indexOf('=');
    if (equals <= 0) continue;
    const name = percentDecode(part.slice(0, equals), true).toLowerCase();
    if (names.includes(name)) return percentDecode(part.slice(equals + 1), true);
  }
  return undefined;
}

/** Sets `user.id` from the first identity source that gives a value, `api_key.fingerprint`, and the bearer JWT's claims. */
function resolveIdentity(event: HttpEvent, attributes: Attributes, options: ExtractOptions): void {
  const headers = event.headers;
  const authorization = headers?.authorization;
  const token = bearerToken(authorization);
  if (token) event.jwt = decodeJwt(token);
  for (const source of options.identitySources) {
    let value: string | undefined;
    if (source.type === 'attribute') value = first(attributes, source.name);
    else if (source.type === 'header') value = headers?.[source.name];
    else value = jwtSubject(headers?.[source.name]);
    if (value !== undefined && value !== '') {
      event['user.id'] = value.length > 256 ? value.slice(0, 256) : value;
      break;
    }
  }
  let apiKey: string | undefined;
  for (const name of options.apiKeyHeaders) {
    apiKey = headers?.[name];
    if (apiKey) break;
  }
  apiKey ??= queryParameter(event['url.query'], options.apiKeyQueryParameters);
  if (apiKey) event['api_key.fingerprint'] = apiKeyFingerprint(apiKey, options.apiKeyHashKey);
}

function jwtSubject(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const token = bearerToken(value) ?? (value.startsWith('eyJ') ? value : undefined);
  return token ? decodeJwt(token)?.sub : undefined;
}

/** Completes an event: client address, identity, route template and object id. */
function finish(event: HttpEvent, attributes: Attributes, options: ExtractOptions): HttpEvent {
  resolveClientAddress(event, options.trustedProxies);
  resolveIdentity(event, attributes, options);
  const path = event['url.path'];
  if (path !== undefined) {
    event['http.route'] ??= routeTemplate(path);
    const id = objectId(path, event['http.route']);
    if (id !== undefined) event['object.id'] = id.length > 128 ? id.slice(0, 128) : id;
  }
  return event;
}

/** SpanKind SERVER in OTLP. */
const SPAN_KIND_SERVER = 2;

/** Builds the event of a SERVER span with HTTP attributes; other spans give undefined. */
export function eventFromSpan(span: ISpan, serviceName: string | undefined, options: ExtractOptions = DEFAULT_EXTRACT_OPTIONS): HttpEvent | undefined {
  if (span.kind !== SPAN_KIND_SERVER) return undefined;
  const event: HttpEvent = { time: nanosToMillis(span.startTimeUnixNano) };
  readCommon(event, span.attributes, serviceName);
  if (event['http.request.method'] === undefined && event['url.path'] === undefined) return undefined;
  const end = nanosToMillis(span.endTimeUnixNano);
  if (end >= event.time && event.time > 0) event['http.server.request.duration'] = (end - event.time) / 1000;
  event.trace_id = hex(span.traceId);
  event.span_id = hex(span.spanId);
  return finish(event, span.attributes, options);
}

/** Builds the event of a log record that describes an HTTP request (an access-log line); others give undefined. */
export function eventFromLogRecord(record: ILogRecord, serviceName: string | undefined, options: ExtractOptions = DEFAULT_EXTRACT_OPTIONS): HttpEvent | undefined {
  const attributes = record.attributes;
  if (!attributes || attributes.length === 0) return undefined;
  const time = nanosToMillis(record.timeUnixNano) || nanosToMillis(record.observedTimeUnixNano);
  const event: HttpEvent = { time };
  readCommon(event, attributes, serviceName);
  if (event['http.request.method'] === undefined && event['url.path'] === undefined) {
    // An access-log line whose request line could not be split is still a request, and a telling one.
    event['http.request.line'] = first(attributes, 'http.request.line');
    if (event['http.request.line'] === undefined) return undefined;
  }
  event['http.server.request.duration'] = firstNumber(attributes, 'http.server.request.duration');
  event.trace_id = hex(record.traceId);
  event.span_id = hex(record.spanId);
  return finish(event, attributes, options);
}

/**
 * Completes an event given as plain fields (rule tests, benchmarks): headers given as
 * `http.request.header.<name>` keys move into `headers`, and the same client, identity and
 * route handling as for telemetry applies.
 */
export function eventFromFields(fields: Record<string, unknown>, time: number, options: ExtractOptions = DEFAULT_EXTRACT_OPTIONS): HttpEvent {
  const event: Record<string, unknown> = { time };
  const attributes: IKeyValue[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (key === 'time' || value === undefined || value === null) continue;
    if (key.startsWith(HEADER_FIELD_PREFIX)) {
      ((event.headers ??= {}) as Record<string, string>)[key.slice(HEADER_FIELD_PREFIX.length).toLowerCase()] = String(value);
    } else {
      event[key] = EVENT_FIELDS[key] === 'number' ? Number(value) : String(value);
      if (typeof value === 'string') attributes.push({ key, value: { stringValue: value } });
    }
  }
  return finish(event as unknown as HttpEvent, attributes, options);
}
