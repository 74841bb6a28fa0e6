import type Long from 'long';
import type { IAnyValue, IKeyValue, ILogRecord, ISpan } from '../../core/otlp/codec.js';
import { anyValueToJs, nanosToMillis } from '../../core/otlp/attributes.js';
import { inAnyCidr, parseAddress, type Cidr } from '../../core/cidr.js';
import type { IdentitySource } from './config.js';
import { apiKeyFingerprint, bearerToken, decodeJwt, type JwtClaims } from './identity.js';
import { objectId, routeTemplate } from './route.js';
import { boundForMatching, percentDecode } from './decode.js';

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

/**
 * Attribute keys extraction reads, current semantic-convention names first and older names after
 * them. Each key gets a slot in an `AttributeIndex`.
 */
const KNOWN_KEYS = [
  'http.request.method', 'http.method', 'url.scheme', 'http.scheme', 'url.path', 'url.query', 'http.target', 'url.full', 'http.url',
  'http.route', 'http.response.status_code', 'http.status_code', 'client.address', 'http.client_ip', 'net.sock.peer.addr', 'net.peer.ip',
  'network.peer.address', 'user_agent.original', 'http.user_agent', 'server.address', 'http.host', 'net.host.name',
  'http.response.body.size', 'http.response_content_length', 'http.request.body.size', 'http.request_content_length',
  'http.request.line', 'http.server.request.duration',
] as const;
type KnownKey = (typeof KNOWN_KEYS)[number];

/** Each known key's slot, its index in KNOWN_KEYS. */
const SLOT = Object.fromEntries(KNOWN_KEYS.map((key, index) => [key, index])) as Record<KnownKey, number>;

/**
 * Slots by attribute key, for the known keys and each identity source attribute. Decoded keys are
 * new strings on every request, so finding one in a Map would hash it first. `byLength` lists the
 * keys of each length instead, and a key is found by comparing it with those few.
 */
interface KeySlots {
  byName: Map<string, number>;
  /** Per key length, the keys of that length and their slots. */
  byLength: [string, number][][];
  /** A scratch array of one entry per slot, reused by each AttributeIndex in turn. */
  values: (IAnyValue | null | undefined)[];
}

const slotsByOptions = new WeakMap<ExtractOptions, KeySlots>();

function keySlots(options: ExtractOptions): KeySlots {
  let slots = slotsByOptions.get(options);
  if (!slots) {
    const bySlot: string[] = [...KNOWN_KEYS];
    for (const source of options.identitySources) if (source.type === 'attribute' && !bySlot.includes(source.name)) bySlot.push(source.name);
    const byLength: [string, number][][] = [];
    bySlot.forEach((key, slot) => (byLength[key.length] ??= []).push([key, slot]));
    slots = { byName: new Map(bySlot.map((key, slot) => [key, slot])), byLength, values: new Array(bySlot.length).fill(undefined) };
    slotsByOptions.set(options, slots);
  }
  return slots;
}

/** Finds the slot of an attribute key, or -1 when extraction does not read it. */
function slotOf(slots: KeySlots, key: string): number {
  const candidates = slots.byLength[key.length];
  if (candidates === undefined) return -1;
  for (let i = 0; i < candidates.length; i++) if (candidates[i][0] === key) return candidates[i][1];
  return -1;
}

/**
 * The attributes of one span or log record, read in one pass: the first value of each key that
 * extraction reads, and the request headers. Looking a key up is then one map access instead of a
 * scan of the whole list per key.
 */
class AttributeIndex {
  /** The slots' shared scratch array; valid until the next AttributeIndex is built. */
  private readonly values: (IAnyValue | null | undefined)[];
  headers: Record<string, string> | undefined;

  constructor(attributes: Attributes, private readonly slots: KeySlots) {
    this.values = slots.values;
    this.values.fill(undefined);
    if (!attributes) return;
    let headerCount = 0;
    for (let i = 0; i < attributes.length; i++) {
      const attribute = attributes[i];
      const key = attribute.key ?? '';
      const slot = slotOf(slots, key);
      if (slot >= 0) {
        if (this.values[slot] === undefined) this.values[slot] = attribute.value ?? null;
        continue;
      }
      const first = key.charCodeAt(0);
      // Only `http.request.header.*` and `nginx.http_*` keys name headers; the first letter rules out the rest.
      if ((first !== 0x68 && first !== 0x6e) || headerCount >= MAX_HEADERS) continue;
      const name = headerName(key);
      if (name === undefined || !this.addHeader(name, attribute.value)) continue;
      headerCount++;
    }
  }

  /** Reads an attribute by name, as `text` does; identity sources may name any attribute. */
  textOf(key: string): string | undefined {
    const slot = this.slots.byName.get(key);
    return slot === undefined ? undefined : this.text(slot);
  }

  /** Returns the attribute in a slot as a non-empty string (numbers and booleans as text), or undefined. */
  text(slot: number): string | undefined {
    const value = this.values[slot];
    if (value === undefined || value === null) return undefined;
    // Decoded OTLP string values, the common case, need no conversion.
    const direct = value.stringValue;
    if (typeof direct === 'string' && direct !== '' && Object.hasOwn(value, 'stringValue')) return direct;
    const js = anyValueToJs(value);
    if (typeof js === 'string') return js === '' ? undefined : js;
    if (typeof js === 'number' || typeof js === 'boolean') return String(js);
    return undefined;
  }

  /** Returns the attribute in a slot as a number, from a number or a numeric string, or undefined. */
  number(slot: number): number | undefined {
    const value = this.values[slot];
    if (value === undefined || value === null) return undefined;
    const js = anyValueToJs(value);
    if (typeof js === 'number') return js;
    if (typeof js === 'string' && js.trim() !== '' && Number.isFinite(Number(js))) return Number(js);
    return undefined;
  }

  private addHeader(name: string, value: IAnyValue | null | undefined): boolean {
    const js = anyValueToJs(value);
    let text: string | undefined;
    if (Array.isArray(js)) text = js.map(String).join(', ');
    else if (typeof js === 'string' || typeof js === 'number') text = String(js);
    if (text === undefined || text === '' || text === '-') return false;
    (this.headers ??= {})[name] = boundForMatching(text, MAX_HEADER_LENGTH);
    return true;
  }
}

/**
 * Names the request header an attribute carries: `http.request.header.<name>` attributes (a string
 * array in the semantic conventions, joined with `, `) and nginx `$http_<name>` variables that
 * custom log formats turn into `nginx.http_<name>` attributes.
 */
function headerName(key: string): string | undefined {
  if (key.startsWith(HEADER_FIELD_PREFIX)) return key.slice(HEADER_FIELD_PREFIX.length).toLowerCase() || undefined;
  if (key.startsWith('nginx.http_')) return key.slice('nginx.http_'.length).replaceAll('_', '-').toLowerCase() || undefined;
  return undefined;
}

function hex(bytes: Uint8Array | null | undefined): string | undefined {
  if (!bytes || bytes.length === 0) return undefined;
  if (Buffer.isBuffer(bytes)) return bytes.toString('hex');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Converts OTLP nanoseconds to milliseconds, exactly and without 64-bit division: with the high
 * and low words h and l, h·2^32 + l = h·4294·10^6 + (h·967296 + l), and the second term stays
 * below 2^53.
 */
function millis(nanos: number | Long | string | null | undefined): number {
  if (nanos !== null && typeof nanos === 'object') {
    const high = nanos.high >>> 0;
    return high * 4294 + Math.floor((high * 967296 + (nanos.low >>> 0)) / 1e6);
  }
  return nanosToMillis(nanos);
}

/** Splits `url.full` or the older `http.target` into path and query, for telemetry without `url.path`. */
function splitTarget(index: AttributeIndex): { path: string; query: string | undefined } | undefined {
  const target = index.text(SLOT['http.target']) ?? index.text(SLOT['url.full']) ?? index.text(SLOT['http.url']);
  if (!target) return undefined;
  let pathAndQuery = target;
  const scheme = target.indexOf('://');
  if (scheme > 0) {
    const slash = target.indexOf('/', scheme + 3);
    pathAndQuery = slash >= 0 ? target.slice(slash) : '/';
  }
  const question = pathAndQuery.indexOf('?');
  return question >= 0 ? { path: pathAndQuery.slice(0, question), query: pathAndQuery.slice(question + 1) } : { path: pathAndQuery, query: undefined };
}

/**
 * Reads the fields both spans and log records carry, from current and older convention names.
 * Every field of HttpEvent is set here, so that all events share one object shape.
 */
function readCommon(time: number, index: AttributeIndex, serviceName: string | undefined): HttpEvent {
  let path = index.text(SLOT['url.path']);
  let query = index.text(SLOT['url.query']);
  if (path === undefined) {
    const target = splitTarget(index);
    if (target) {
      path = target.path;
      query ??= target.query;
    }
  }
  return {
    time,
    'http.request.method': index.text(SLOT['http.request.method']) ?? index.text(SLOT['http.method']),
    'url.scheme': index.text(SLOT['url.scheme']) ?? index.text(SLOT['http.scheme']),
    'url.path': path,
    'url.query': query,
    'http.request.line': undefined,
    'http.route': index.text(SLOT['http.route']),
    'http.response.status_code': index.number(SLOT['http.response.status_code']) ?? index.number(SLOT['http.status_code']),
    'client.address': index.text(SLOT['client.address']) ?? index.text(SLOT['http.client_ip']) ?? index.text(SLOT['net.sock.peer.addr']) ?? index.text(SLOT['net.peer.ip']),
    'network.peer.address': index.text(SLOT['network.peer.address']) ?? index.text(SLOT['net.sock.peer.addr']),
    'user_agent.original': index.text(SLOT['user_agent.original']) ?? index.text(SLOT['http.user_agent']),
    'server.address': index.text(SLOT['server.address']) ?? index.text(SLOT['http.host']) ?? index.text(SLOT['net.host.name']),
    'user.id': undefined,
    'api_key.fingerprint': undefined,
    'object.id': undefined,
    'service.name': serviceName,
    'http.server.request.duration': undefined,
    'http.response.body.size': index.number(SLOT['http.response.body.size']) ?? index.number(SLOT['http.response_content_length']),
    'http.request.body.size': index.number(SLOT['http.request.body.size']) ?? index.number(SLOT['http.request_content_length']),
    trace_id: undefined,
    span_id: undefined,
    headers: index.headers,
    jwt: undefined,
  };
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
    if (event['network.peer.address'] === event['client.address']) event['network.peer.address'] = undefined;
    return;
  }
  let client = peer;
  for (let i = forwarded.length - 1; i >= 0; i--) {
    client = forwarded[i];
    if (!inAnyCidr(trustedProxies, client)) break;
  }
  event['network.peer.address'] = peer;
  event['client.address'] = client;
  if (client === peer) event['network.peer.address'] = undefined;
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
  // Without escapes, a parameter can only be present where its name followed by `=` is.
  if (query.indexOf('%') < 0 && query.indexOf('+') < 0 && !names.some((name) => containsIgnoringCase(query, name))) return undefined;
  for (const part of query.split('&')) {
    const equals = part.indexOf('=');
    if (equals <= 0) continue;
    const name = percentDecode(part.slice(0, equals), true).toLowerCase();
    if (names.includes(name)) return percentDecode(part.slice(equals + 1), true);
  }
  return undefined;
}

/** Tokens and API keys remembered per worker at most; clients send the same ones request after request. */
const IDENTITY_CACHE_SIZE = 4096;

/**
 * Remembers values computed from a credential (decoded JWT claims, API key fingerprints), since
 * each client repeats its token on every request. Cleared when full, which keeps it bounded
 * without bookkeeping per entry. Entries stay inside the worker thread.
 */
class CredentialCache<T> {
  private readonly entries = new Map<string, T>();

  get(key: string, compute: (key: string) => T): T {
    let value = this.entries.get(key);
    if (value === undefined && !this.entries.has(key)) {
      value = compute(key);
      if (this.entries.size >= IDENTITY_CACHE_SIZE) this.entries.clear();
      this.entries.set(key, value);
    }
    return value as T;
  }
}

const jwtCache = new CredentialCache<JwtClaims | undefined>();
const fingerprintCaches = new WeakMap<ExtractOptions, CredentialCache<string>>();

/** Decodes a JWT through the cache; the claims object is shared, so callers must not change it. */
function cachedJwt(token: string): JwtClaims | undefined {
  return jwtCache.get(token, decodeJwt);
}

function cachedFingerprint(apiKey: string, options: ExtractOptions): string {
  let cache = fingerprintCaches.get(options);
  if (!cache) {
    cache = new CredentialCache<string>();
    fingerprintCaches.set(options, cache);
  }
  return cache.get(apiKey, (key) => apiKeyFingerprint(key, options.apiKeyHashKey));
}

function lowerCase(code: number): number {
  return code >= 0x41 && code <= 0x5a ? code | 0x20 : code;
}

/** Reports whether `text` contains `lowerCaseNeedle` followed by `=`, ignoring the case of ASCII letters. */
function containsIgnoringCase(text: string, lowerCaseNeedle: string): boolean {
  const last = text.length - lowerCaseNeedle.length - 1;
  for (let start = 0; start <= last; start++) {
    let i = 0;
    while (i < lowerCaseNeedle.length && lowerCase(text.charCodeAt(start + i)) === lowerCaseNeedle.charCodeAt(i)) i++;
    if (i === lowerCaseNeedle.length && text.charCodeAt(start + i) === 0x3d) return true;
  }
  return false;
}

/** Sets `user.id` from the first identity source that gives a value, `api_key.fingerprint`, and the bearer JWT's claims. */
function resolveIdentity(event: HttpEvent, index: AttributeIndex, options: ExtractOptions): void {
  const headers = event.headers;
  if (headers) {
    const token = bearerToken(headers.authorization);
    if (token) event.jwt = cachedJwt(token);
  }
  for (const source of options.identitySources) {
    let value: string | undefined;
    if (source.type === 'attribute') value = index.textOf(source.name);
    else if (source.type === 'header') value = headers?.[source.name];
    else value = jwtSubject(headers?.[source.name]);
    if (value !== undefined && value !== '') {
      event['user.id'] = value.length > 256 ? value.slice(0, 256) : value;
      break;
    }
  }
  let apiKey: string | undefined;
  if (headers) {
    for (const name of options.apiKeyHeaders) {
      apiKey = headers[name];
      if (apiKey) break;
    }
  }
  apiKey ??= queryParameter(event['url.query'], options.apiKeyQueryParameters);
  if (apiKey) event['api_key.fingerprint'] = cachedFingerprint(apiKey, options);
}

function jwtSubject(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const token = bearerToken(value) ?? (value.startsWith('eyJ') ? value : undefined);
  return token ? cachedJwt(token)?.sub : undefined;
}

/** Completes an event: client address, identity, route template and object id. */
function finish(event: HttpEvent, index: AttributeIndex, options: ExtractOptions): HttpEvent {
  resolveClientAddress(event, options.trustedProxies);
  resolveIdentity(event, index, options);
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
  const index = new AttributeIndex(span.attributes, keySlots(options));
  const event = readCommon(millis(span.startTimeUnixNano), index, serviceName);
  if (event['http.request.method'] === undefined && event['url.path'] === undefined) return undefined;
  const end = millis(span.endTimeUnixNano);
  if (end >= event.time && event.time > 0) event['http.server.request.duration'] = (end - event.time) / 1000;
  event.trace_id = hex(span.traceId);
  event.span_id = hex(span.spanId);
  return finish(event, index, options);
}

/** Builds the event of a log record that describes an HTTP request (an access-log line); others give undefined. */
export function eventFromLogRecord(record: ILogRecord, serviceName: string | undefined, options: ExtractOptions = DEFAULT_EXTRACT_OPTIONS): HttpEvent | undefined {
  const attributes = record.attributes;
  if (!attributes || attributes.length === 0) return undefined;
  const time = millis(record.timeUnixNano) || millis(record.observedTimeUnixNano);
  const index = new AttributeIndex(attributes, keySlots(options));
  const event = readCommon(time, index, serviceName);
  if (event['http.request.method'] === undefined && event['url.path'] === undefined) {
    // An access-log line whose request line could not be split is still a request, and a telling one.
    event['http.request.line'] = index.text(SLOT['http.request.line']);
    if (event['http.request.line'] === undefined) return undefined;
  }
  event['http.server.request.duration'] = index.number(SLOT['http.server.request.duration']);
  event.trace_id = hex(record.traceId);
  event.span_id = hex(record.spanId);
  return finish(event, index, options);
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
  return finish(event as unknown as HttpEvent, new AttributeIndex(attributes, keySlots(options)), options);
}
