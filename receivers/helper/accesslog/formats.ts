import type { AccessFields } from './fields.js';
import { compileNginxFormat } from './nginx.js';
import { compileApacheFormat } from './apache.js';
import { fieldsFromVariables } from './variables.js';
import { applyTrailers, scanClf } from './clf.js';
import { parseApacheError, parseLitespeedError, parseNginxError } from './errorlog.js';
import { parseAlb, parseCloudFront } from './aws.js';
import { parseHaproxy } from './haproxy.js';
import { JSON_MAPPERS, parseJsonObject } from './json.js';
import { parseEnvoyDefault } from './envoy.js';
import { parseAuto } from './auto.js';
import { unwrapContainerLine } from './container.js';
import { ClientResolver } from './client.js';
import { zoneOffset, type ZoneOffset } from './time.js';
import type { LineSplitter } from './template.js';

/** Format names for `format:` and `--format`, shared by every receiver that reads access logs. */
export const FORMAT_NAMES = [
  'nginx_combined', 'nginx', 'nginx_error',
  'apache_common', 'apache_combined', 'apache', 'apache_error',
  'envoy', 'envoy_json', 'kong_json', 'traefik_json', 'traefik_clf', 'haproxy_http',
  'aws_alb', 'aws_cloudfront', 'aws_apigateway_json', 'caddy_json', 'litespeed_error', 'json',
  'auto',
] as const;

export type FormatName = (typeof FORMAT_NAMES)[number];

/** Formats whose layout comes from the `log_format` option. */
export const TEMPLATE_FORMATS: readonly string[] = ['nginx', 'apache'];

/** Formats whose lines are JSON objects; a line holding a JSON array is read as one entry per element. */
export const JSON_FORMATS: readonly string[] = ['envoy_json', 'kong_json', 'traefik_json', 'aws_apigateway_json', 'caddy_json', 'json', 'auto'];

/** Options of the access-log formats; each format reads the ones it needs. */
export interface FormatOptions {
  /** nginx `log_format` or Apache `LogFormat` string, for the `nginx` and `apache` formats. */
  log_format?: string;
  /** Proxies whose X-Forwarded-For entries are believed: CIDR ranges, addresses, or `unix:`. */
  trusted_proxies?: readonly string[];
  /** The zone of timestamps written without one: `UTC`, `+02:00` or an IANA name. */
  timezone?: string;
}

/** Reads one line into access fields; undefined when the line does not match the format. */
export type FieldParser = (line: string) => AccessFields | undefined;

type Reader = (line: string, zone: ZoneOffset) => AccessFields | undefined;

function template(split: LineSplitter, prefix: string): Reader {
  return (line, zone) => {
    const values = split(line);
    return values ? fieldsFromVariables(values, prefix, zone) : undefined;
  };
}

function clf(prefix: string, trailers: boolean): Reader {
  return (line, zone) => {
    const scan = scanClf(line, zone, prefix);
    if (!scan) return undefined;
    if (trailers) applyTrailers(scan.fields, scan.rest, zone);
    return scan.fields;
  };
}

/** How far into a line a JSON object may start, behind a syslog or CDN header such as Fastly's. */
const MAX_JSON_PREFIX = 200;

function json(format: string): Reader {
  const mapper = JSON_MAPPERS[format];
  return (line, zone) => {
    const open = line[0] === '{' ? 0 : line.indexOf('{');
    if (open < 0 || open > MAX_JSON_PREFIX) return undefined;
    const entry = parseJsonObject(open === 0 ? line : line.slice(open));
    return entry ? mapper(entry, zone) : undefined;
  };
}

const READERS: Record<FormatName, (options: FormatOptions) => Reader> = {
  nginx_combined: () => clf('nginx', true),
  nginx: (options) => template(compileNginxFormat(requireLogFormat('nginx', options)), 'nginx'),
  nginx_error: () => parseNginxError,
  apache_common: () => clf('apache', false),
  apache_combined: () => clf('apache', false),
  apache: (options) => template(compileApacheFormat(requireLogFormat('apache', options)), 'apache'),
  apache_error: () => parseApacheError,
  envoy: () => parseEnvoyDefault,
  envoy_json: () => json('envoy_json'),
  kong_json: () => json('kong_json'),
  traefik_json: () => json('traefik_json'),
  traefik_clf: () => clf('traefik', true),
  haproxy_http: () => parseHaproxy,
  aws_alb: () => (line) => parseAlb(line),
  aws_cloudfront: () => parseCloudFront,
  aws_apigateway_json: () => json('aws_apigateway_json'),
  caddy_json: () => json('caddy_json'),
  litespeed_error: () => parseLitespeedError,
  json: () => json('json'),
  auto: () => parseAuto,
};

function requireLogFormat(format: string, options: FormatOptions): string {
  if (!options.log_format) throw new Error(`format "${format}" needs a log_format string`);
  return options.log_format;
}

export function isFormatName(name: string): name is FormatName {
  return (FORMAT_NAMES as readonly string[]).includes(name);
}

/**
 * Builds the parser of a format. The parser takes the wrapping of container runtimes off the line,
 * reads it, and resolves the client address against `trusted_proxies`. Throws for an unknown
 * format or invalid options; `checkFormatOptions` reports the same problems as messages.
 */
export function fieldParser(format: string, options: FormatOptions = {}): FieldParser {
  if (!isFormatName(format)) throw new Error(`unknown access-log format "${format}"; known formats: ${FORMAT_NAMES.join(', ')}`);
  const read = READERS[format](options);
  const zone = zoneOffset(options.timezone);
  const resolver = new ClientResolver(options.trusted_proxies ?? []);
  return (line) => {
    const unwrapped = unwrapContainerLine(line);
    const fields = read(unwrapped.text, zone);
    if (!fields) return undefined;
    fields.timeMs ??= unwrapped.timeMs;
    resolveClient(fields, resolver);
    return fields;
  };
}

function resolveClient(fields: AccessFields, resolver: ClientResolver): void {
  const client = resolver.resolve(fields.remoteAddress, fields.xForwardedFor, fields.remotePort);
  fields.clientAddress = client.address;
  fields.clientPort = client.port;
  fields.peerAddress = client.peerAddress;
}

/** Checks a format and its options; returns one message per problem, each with the option it concerns. */
export function checkFormatOptions(format: string, options: FormatOptions): { option: string; message: string }[] {
  const problems: { option: string; message: string }[] = [];
  if (!isFormatName(format)) return [{ option: 'format', message: `unknown format "${format}"; known formats: ${FORMAT_NAMES.join(', ')}` }];
  if (TEMPLATE_FORMATS.includes(format)) {
    if (!options.log_format) problems.push({ option: 'log_format', message: `format "${format}" needs a log_format string` });
    else {
      try {
        READERS[format](options);
      } catch (error) {
        problems.push({ option: 'log_format', message: `invalid ${format} log_format: ${(error as Error).message}` });
      }
    }
  } else if (options.log_format) {
    problems.push({ option: 'log_format', message: `log_format applies to the formats ${TEMPLATE_FORMATS.join(' and ')}, not to "${format}"` });
  }
  try {
    zoneOffset(options.timezone);
  } catch {
    problems.push({ option: 'timezone', message: `unknown time zone "${options.timezone}"; use UTC, an offset such as +02:00, or an IANA name such as Europe/Paris` });
  }
  try {
    new ClientResolver(options.trusted_proxies ?? []);
  } catch (error) {
    problems.push({ option: 'trusted_proxies', message: (error as Error).message });
  }
  return problems;
}
