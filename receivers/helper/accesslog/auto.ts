import type { AccessFields } from './fields.js';
import { applyTrailers, scanClf } from './clf.js';
import { parseApacheError, parseLitespeedError, parseNginxError } from './errorlog.js';
import { parseAlb, parseCloudFront } from './aws.js';
import { parseHaproxy, stripSyslogHeader } from './haproxy.js';
import { detectJsonMapper, parseJsonObject } from './json.js';
import { parseEnvoyDefault } from './envoy.js';
import type { ZoneOffset } from './time.js';

/** How far into a line a JSON object may start behind a prefix (a syslog or Fastly header). */
const MAX_JSON_PREFIX = 200;

function digit(char: string | undefined): boolean {
  return char !== undefined && char >= '0' && char <= '9';
}

function withFormat(fields: AccessFields | undefined, format: string): AccessFields | undefined {
  if (fields) fields.format ??= format;
  return fields;
}

/**
 * Reads a line of any supported format, choosing the format by the line's first characters. The
 * checks look at fixed positions and short prefixes, so choosing costs little beside parsing. Lines
 * of custom `log_format` layouts are not recognized; configure those formats by name.
 */
export function parseAuto(line: string, zone: ZoneOffset): AccessFields | undefined {
  const first = line[0];
  if (first === '{') return readJson(line, zone);
  if (digit(first) && line[4] === '/' && line[19] === ' ') return withFormat(parseNginxError(line, zone), 'nginx_error');
  if (digit(first) && line[4] === '-' && line[10] === '\t') return withFormat(parseCloudFront(line, zone), 'aws_cloudfront');
  if (digit(first) && line[4] === '-' && line[10] === ' ' && line.indexOf(' [', 19) < 32 && line.indexOf(' [', 19) > 0) {
    const litespeed = parseLitespeedError(line, zone);
    if (litespeed) return withFormat(litespeed, 'litespeed_error');
  }
  if (first === 'h' || first === 'w' || first === 'g') {
    const alb = parseAlb(line);
    if (alb) return withFormat(alb, 'aws_alb');
  }
  if (first === '[') {
    if (line.indexOf('] "') > 0 && line.indexOf('] "') < 40) {
      const envoy = parseEnvoyDefault(line, zone);
      if (envoy) return withFormat(envoy, 'envoy');
    }
    return withFormat(parseApacheError(line, zone), 'apache_error');
  }
  if (looksLikeHaproxy(line)) {
    const haproxy = parseHaproxy(line, zone);
    if (haproxy) return withFormat(haproxy, 'haproxy_http');
  }
  if (line.endsWith('}')) {
    const open = line.indexOf('{');
    if (open > 0 && open < MAX_JSON_PREFIX) {
      const embedded = readJson(line.slice(open), zone);
      if (embedded) return embedded;
    }
  }
  return readClf(line, zone);
}

function readJson(line: string, zone: ZoneOffset): AccessFields | undefined {
  const entry = parseJsonObject(line);
  return entry ? detectJsonMapper(entry)(entry, zone) : undefined;
}

/** `client:port [date] ` after an optional syslog header; no other supported format starts this way. */
function looksLikeHaproxy(line: string): boolean {
  const text = stripSyslogHeader(line);
  const space = text.indexOf(' ');
  return space > 0 && space < 64 && text[space + 1] === '[' && text.lastIndexOf(':', space) > 0;
}

function readClf(line: string, zone: ZoneOffset): AccessFields | undefined {
  const scan = scanClf(line, zone, 'nginx');
  if (!scan) return undefined;
  applyTrailers(scan.fields, scan.rest, zone);
  const traefik = scan.fields.extra?.router_name !== undefined || scan.fields.extra?.request_count !== undefined;
  if (traefik) scan.fields.extraPrefix = 'traefik';
  if (traefik) scan.fields.format = 'traefik_clf';
  else if (scan.fields.userAgent !== undefined || scan.fields.referer !== undefined) scan.fields.format = 'nginx_combined';
  else scan.fields.format = 'apache_common';
  return scan.fields;
}
