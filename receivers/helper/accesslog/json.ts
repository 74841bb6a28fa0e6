import { addExtra, optionalText, splitRequestLine, type AccessFields } from './fields.js';
import { portOf, stripPort } from './client.js';
import { parseAnyTime, parseEpochSeconds, type ZoneOffset } from './time.js';

/*
 * JSON access logs. Each gateway names its keys its own way, so each has a mapper, and `auto`
 * picks one by the keys a line has. `json` reads logs whose keys follow nginx variable names,
 * OpenTelemetry attribute names or common spellings, such as a `log_format` with `escape=json`.
 * JSON.parse is linear in the input, so attacker text in values costs no more than its length.
 */

type JsonObject = Record<string, unknown>;
export type JsonMapper = (entry: JsonObject, zone: ZoneOffset) => AccessFields | undefined;

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Reads a string or number value as text; arrays (repeated headers) are joined as HTTP joins them. */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return optionalText(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) {
    const parts = value.map(text).filter((part): part is string => part !== undefined);
    return parts.length > 0 ? parts.join(', ') : undefined;
  }
  return undefined;
}

/** Reads a number, also from a numeric string; `-`, `null` and negative sentinels (-1) are absent. */
function number(value: unknown): number | undefined {
  let parsed = NaN;
  if (typeof value === 'number') parsed = value;
  else if (typeof value === 'string' && value !== '' && value !== '-') parsed = Number(value);
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : undefined;
}

function milliseconds(value: unknown, factor = 1): number | undefined {
  const parsed = number(value);
  return parsed === undefined ? undefined : parsed * factor;
}

/** Returns the first present value among keys, looked up directly and then as a dotted path. */
function pick(entry: JsonObject, keys: readonly string[]): unknown {
  for (const key of keys) {
    if (Object.hasOwn(entry, key) && entry[key] !== null && entry[key] !== undefined && entry[key] !== '') return entry[key];
  }
  for (const key of keys) {
    if (!key.includes('.')) continue;
    let current: unknown = entry;
    for (const part of key.split('.')) current = isObject(current) && Object.hasOwn(current, part) ? current[part] : undefined;
    if (current !== null && current !== undefined && current !== '') return current;
  }
  return undefined;
}

/** Reads a header from a header map whose keys may be any case and whose values may be lists. */
function header(headers: unknown, name: string): string | undefined {
  if (!isObject(headers)) return undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return text(value);
  }
  return undefined;
}

function time(value: unknown, zone: ZoneOffset): number | undefined {
  if (typeof value === 'number') return value > 1e11 ? value : parseEpochSeconds(value);
  if (typeof value !== 'string') return undefined;
  if (/^\d+(?:\.\d+)?$/.test(value)) return time(Number(value), zone);
  return parseAnyTime(value, zone) ?? (Number.isNaN(Date.parse(value)) ? undefined : Date.parse(value));
}

/** Sets method, target and protocol from a target that may be an absolute URL. */
function setTarget(fields: AccessFields, target: string | undefined): void {
  if (target !== undefined) fields.target = target;
}

/** Kong's file-log, http-log, tcp-log and udp-log plugins, which write the same object. */
export const kongMapper: JsonMapper = (entry, zone) => {
  const request = entry.request;
  const response = entry.response;
  if (!isObject(request) || typeof request.method !== 'string') return undefined;
  const fields: AccessFields = { extraPrefix: 'kong', format: 'kong_json' };

  fields.timeMs = time(entry.started_at, zone);
  fields.remoteAddress = text(entry.client_ip);
  fields.method = request.method;
  setTarget(fields, text(request.uri));
  fields.requestLength = number(request.size);
  fields.userAgent = header(request.headers, 'user-agent');
  fields.referer = header(request.headers, 'referer');
  fields.xForwardedFor = header(request.headers, 'x-forwarded-for');
  fields.host = header(request.headers, 'host');
  fields.requestId = header(request.headers, 'x-request-id') ?? header(request.headers, 'kong-request-id');
  if (typeof request.url === 'string') fields.scheme = request.url.split('://')[0];

  if (isObject(response)) {
    fields.status = number(response.status);
    fields.responseSize = number(response.size);
    fields.bodyBytesSent = number(header(response.headers, 'content-length'));
  }

  const latencies = isObject(entry.latencies) ? entry.latencies : {};
  fields.requestTime = milliseconds(latencies.request, 1e-3);
  fields.upstreamResponseTime = milliseconds(latencies.proxy, 1e-3);
  addExtra(fields, 'latency.kong', number(latencies.kong));

  const consumer = isObject(entry.consumer) ? entry.consumer : undefined;
  const authenticated = isObject(entry.authenticated_entity) ? entry.authenticated_entity : undefined;
  fields.remoteUser = text(consumer?.username) ?? text(consumer?.custom_id) ?? text(consumer?.id) ?? text(authenticated?.id);
  addExtra(fields, 'service', isObject(entry.service) ? text(entry.service.name) : undefined);
  addExtra(fields, 'route', isObject(entry.route) ? text(entry.route.name) : undefined);
  addExtra(fields, 'upstream_uri', text(entry.upstream_uri));
  const tries = Array.isArray(entry.tries) ? entry.tries : [];
  const last = tries[tries.length - 1];
  if (isObject(last) && text(last.ip)) fields.upstreamAddress = last.port !== undefined ? `${text(last.ip)}:${text(last.port)}` : text(last.ip);
  return fields;
};

/** Caddy's `http.log.access` entries. `client_ip` is Caddy's own trusted-proxy result. */
export const caddyMapper: JsonMapper = (entry, zone) => {
  const request = entry.request;
  if (!isObject(request) || typeof request.method !== 'string') return undefined;
  const fields: AccessFields = { extraPrefix: 'caddy', format: 'caddy_json' };
  fields.timeMs = time(entry.ts, zone);
  const clientIp = text(request.client_ip);
  const remoteIp = text(request.remote_ip);
  fields.remoteAddress = clientIp ?? remoteIp;
  if (clientIp === undefined || clientIp === remoteIp) fields.remotePort = number(request.remote_port);
  fields.method = request.method;
  setTarget(fields, text(request.uri));
  fields.protocol = text(request.proto);
  fields.host = text(request.host);
  fields.userAgent = header(request.headers, 'user-agent');
  fields.referer = header(request.headers, 'referer');
  fields.xForwardedFor = header(request.headers, 'x-forwarded-for');
  if (isObject(request.tls)) fields.scheme = 'https';
  fields.status = typeof entry.status === 'number' ? entry.status : number(entry.status);
  fields.bodyBytesSent = number(entry.size);
  fields.requestBodySize = number(entry.bytes_read);
  fields.requestTime = number(entry.duration);
  fields.remoteUser = text(entry.user_id);
  fields.level = text(entry.level);
  addExtra(fields, 'logger', text(entry.logger));
  return fields;
};

/** Traefik's JSON access log; header fields appear when the header mode keeps them. */
export const traefikMapper: JsonMapper = (entry, zone) => {
  if (entry.RequestMethod === undefined && entry.DownstreamStatus === undefined) return undefined;
  const fields: AccessFields = { extraPrefix: 'traefik', format: 'traefik_json' };
  fields.timeMs = time(entry.StartUTC ?? entry.StartLocal ?? entry.time, zone);
  fields.remoteAddress = text(entry.ClientHost) ?? (typeof entry.ClientAddr === 'string' ? stripPort(entry.ClientAddr) : undefined);
  fields.remotePort = number(entry.ClientPort);
  fields.remoteUser = text(entry.ClientUsername);
  fields.method = text(entry.RequestMethod);
  setTarget(fields, text(entry.RequestPath));
  fields.protocol = text(entry.RequestProtocol);
  fields.scheme = text(entry.RequestScheme);
  fields.host = text(entry.RequestHost);
  fields.status = number(entry.DownstreamStatus);
  fields.bodyBytesSent = number(entry.DownstreamContentSize);
  fields.requestBodySize = number(entry.RequestContentSize);
  fields.requestTime = milliseconds(entry.Duration, 1e-9);
  fields.upstreamResponseTime = milliseconds(entry.OriginDuration, 1e-9);
  fields.userAgent = text(entry['request_User-Agent']);
  fields.referer = text(entry['request_Referer']);
  fields.xForwardedFor = text(entry['request_X-Forwarded-For']);
  fields.requestId = text(entry['request_X-Request-Id']);
  fields.upstreamAddress = text(entry.ServiceAddr);
  addExtra(fields, 'router', text(entry.RouterName));
  addExtra(fields, 'service', text(entry.ServiceName));
  addExtra(fields, 'entry_point', text(entry.entryPointName));
  addExtra(fields, 'origin_status', number(entry.OriginStatus));
  return fields;
};

/** Envoy (and Istio) JSON access logs. Keys are whatever the format dictionary names; these are the usual ones. */
export const envoyMapper: JsonMapper = (entry, zone) => {
  const method = text(pick(entry, ['method', ':method', 'request_method']));
  const status = pick(entry, ['response_code', 'status', 'status_code']);
  if (method === undefined && status === undefined) return undefined;
  const fields: AccessFields = { extraPrefix: 'envoy', format: 'envoy_json' };
  fields.timeMs = time(pick(entry, ['start_time', 'timestamp', 'time']), zone);
  const downstream = text(pick(entry, ['downstream_remote_address', 'downstream_direct_remote_address', 'client_address']));
  if (downstream !== undefined) {
    fields.remoteAddress = stripPort(downstream);
    fields.remotePort = portOf(downstream);
  }
  fields.method = method;
  setTarget(fields, text(pick(entry, ['x-envoy-original-path', 'x_envoy_original_path', 'x-envoy-origin-path', 'path', ':path'])));
  fields.protocol = text(pick(entry, ['protocol']));
  fields.status = number(status);
  fields.host = text(pick(entry, [':authority', 'authority', 'host']));
  fields.userAgent = text(pick(entry, ['user_agent', 'user-agent']));
  fields.xForwardedFor = text(pick(entry, ['x_forwarded_for', 'x-forwarded-for']));
  fields.requestId = text(pick(entry, ['request_id', 'x-request-id', 'x_request_id']));
  fields.referer = text(pick(entry, ['referer', 'referrer']));
  fields.requestBodySize = number(pick(entry, ['bytes_received']));
  fields.bodyBytesSent = number(pick(entry, ['bytes_sent']));
  fields.requestTime = milliseconds(pick(entry, ['duration']), 1e-3);
  fields.upstreamResponseTime = milliseconds(pick(entry, ['upstream_service_time', 'x-envoy-upstream-service-time']), 1e-3);
  fields.upstreamAddress = text(pick(entry, ['upstream_host']));
  addExtra(fields, 'response_flags', text(pick(entry, ['response_flags'])));
  addExtra(fields, 'route_name', text(pick(entry, ['route_name'])));
  addExtra(fields, 'upstream_cluster', text(pick(entry, ['upstream_cluster'])));
  addExtra(fields, 'requested_server_name', text(pick(entry, ['requested_server_name'])));
  return fields;
};

/** API Gateway access logs from the JSON templates; every value is a string and `-` means absent. */
export const apiGatewayMapper: JsonMapper = (entry, zone) => {
  const identity = isObject(entry.identity) ? entry.identity : {};
  const routeKey = text(entry.routeKey);
  const route = routeKey ? splitRequestLine(routeKey) : undefined;
  const method = text(entry.httpMethod) ?? route?.method;
  if (method === undefined && entry.requestId === undefined) return undefined;
  const fields: AccessFields = { extraPrefix: 'aws.apigateway', format: 'aws_apigateway_json' };
  fields.timeMs = time(entry.requestTimeEpoch, zone) ?? time(entry.requestTime, zone);
  fields.remoteAddress = text(entry.ip) ?? text(entry.sourceIp) ?? text(identity.sourceIp);
  fields.method = method;
  setTarget(fields, text(entry.path));
  fields.route = text(entry.resourcePath) ?? route?.target;
  fields.protocol = text(entry.protocol);
  fields.status = number(entry.status);
  fields.bodyBytesSent = number(entry.responseLength);
  fields.userAgent = text(entry.userAgent) ?? text(identity.userAgent);
  fields.requestId = text(entry.requestId);
  fields.host = text(entry.domainName);
  fields.remoteUser = text(entry.user) ?? text(entry.caller);
  fields.requestTime = milliseconds(entry.responseLatency, 1e-3);
  fields.upstreamResponseTime = milliseconds(entry.integrationLatency, 1e-3);
  addExtra(fields, 'extended_request_id', text(entry.extendedRequestId));
  addExtra(fields, 'stage', text(entry.stage));
  addExtra(fields, 'error_message', text(entry.errorMessage) ?? (isObject(entry.error) ? text(entry.error.message) : undefined));
  return fields;
};

/**
 * Any JSON access log whose keys use nginx variable names (`remote_addr`, `request`, `status`),
 * OpenTelemetry attribute names (`client.address`, `url.path`) or common spellings
 * (`client_ip`, `url`, `response_status`). The request line and the split fields both work.
 */
export const genericJsonMapper: JsonMapper = (entry, zone) => {
  const fields: AccessFields = { extraPrefix: 'json', format: 'json' };
  const requestLine = text(pick(entry, ['request']));
  if (requestLine !== undefined) {
    const split = splitRequestLine(requestLine);
    if (split) Object.assign(fields, split);
    else fields.requestLine = requestLine;
  }
  fields.method ??= text(pick(entry, ['request_method', 'method', 'http.request.method', 'httpMethod', 'verb']));
  fields.target ??= text(pick(entry, ['request_uri', 'url', 'uri', 'path', 'url.path', 'request_path', 'RequestPath']));
  const query = text(pick(entry, ['url.query', 'query_string', 'args', 'query']));
  if (query !== undefined && fields.target !== undefined && !fields.target.includes('?')) fields.target += `?${query}`;
  fields.status = number(pick(entry, ['status', 'response_status', 'status_code', 'http.response.status_code', 'response_code']));
  if (fields.method === undefined && fields.target === undefined && fields.status === undefined) return undefined;

  fields.timeMs = time(pick(entry, ['time_iso8601', 'timestamp', '@timestamp', 'time', 'ts', 'time_local', 'msec', 'date']), zone);
  fields.remoteAddress = text(pick(entry, ['remote_addr', 'client_ip', 'client.address', 'clientip', 'ip', 'source_ip', 'remote_ip', 'client']));
  fields.remotePort = number(pick(entry, ['remote_port', 'client.port']));
  fields.remoteUser = text(pick(entry, ['remote_user', 'user', 'user.id', 'username']));
  fields.protocol = text(pick(entry, ['server_protocol', 'protocol', 'request_protocol', 'http_version']));
  fields.userAgent = text(pick(entry, ['http_user_agent', 'user_agent', 'request_user_agent', 'user_agent.original', 'useragent', 'agent']));
  fields.referer = text(pick(entry, ['http_referer', 'referer', 'referrer', 'request_referer']));
  fields.xForwardedFor = text(pick(entry, ['http_x_forwarded_for', 'x_forwarded_for', 'xff', 'forwarded_for']));
  fields.host = text(pick(entry, ['host', 'http_host', 'server_name', 'server.address']));
  fields.bodyBytesSent = number(pick(entry, ['body_bytes_sent', 'response_body_size', 'bytes_sent', 'size', 'http.response.body.size']));
  fields.requestLength = number(pick(entry, ['request_length']));
  fields.requestTime = number(pick(entry, ['request_time', 'duration']));
  fields.upstreamResponseTime = number(pick(entry, ['upstream_response_time']));
  fields.upstreamAddress = text(pick(entry, ['upstream_addr']));
  fields.scheme = text(pick(entry, ['scheme', 'url.scheme']));
  fields.requestId = text(pick(entry, ['request_id', 'req_id']));
  return fields;
};

export const JSON_MAPPERS: Record<string, JsonMapper> = {
  kong_json: kongMapper,
  caddy_json: caddyMapper,
  traefik_json: traefikMapper,
  envoy_json: envoyMapper,
  aws_apigateway_json: apiGatewayMapper,
  json: genericJsonMapper,
};

/** Picks the mapper of a JSON entry by keys only one gateway writes; `json` when none fits. */
export function detectJsonMapper(entry: JsonObject): JsonMapper {
  if (isObject(entry.request) && (entry.started_at !== undefined || entry.latencies !== undefined || entry.client_ip !== undefined)) return kongMapper;
  if (isObject(entry.request) && (entry.logger !== undefined || entry.ts !== undefined || entry.resp_headers !== undefined)) return caddyMapper;
  if (entry.DownstreamStatus !== undefined || entry.RequestMethod !== undefined || entry.ClientHost !== undefined) return traefikMapper;
  if (entry.httpMethod !== undefined || entry.routeKey !== undefined || entry.resourcePath !== undefined || (entry.requestId !== undefined && (entry.ip !== undefined || entry.sourceIp !== undefined))) return apiGatewayMapper;
  if (entry.response_code !== undefined || entry.downstream_remote_address !== undefined || entry[':authority'] !== undefined || entry.upstream_host !== undefined) return envoyMapper;
  return genericJsonMapper;
}

/** Parses a JSON object line; undefined for anything else. */
export function parseJsonObject(line: string): JsonObject | undefined {
  if (line.length === 0 || line[0] !== '{') return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
