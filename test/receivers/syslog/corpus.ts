import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AttributeValue } from '../../../core/otlp/attributes.js';
import type { SyslogParserOptions } from '../../../receivers/syslog/worker.js';
import { frameStream, isoNanos, parseFrames, parseOne, type PlainRecord } from './records.js';

/*
 * Adapters from each source test suite's expected values to Watchpost records. Every adapter
 * reads its fixture file, parses each case the way the source test feeds it (one message, or a
 * TCP stream through the framer), and lists the fields that disagree. Field-name translations
 * (rsyslog's %msg% keeps the space after the TAG, syslog-ng renders SDATA as text) happen here,
 * so a disagreement always means a different reading, never a different spelling.
 */

export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'syslog');

export interface CaseResult {
  id: string;
  input: string;
  mismatches: string[];
}

type Json = Record<string, unknown>;

export function readJson(path: string): Json {
  return JSON.parse(readFileSync(join(FIXTURES, path), 'utf8')) as Json;
}

function cases(path: string): Json[] {
  return readJson(path).cases as Json[];
}

function inputBytes(entry: Json): Buffer {
  if (typeof entry.input_b64 === 'string') return Buffer.from(entry.input_b64, 'base64');
  const input = entry.input as string | { base64: string };
  return typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input.base64, 'base64');
}

function show(value: unknown): string {
  const text = typeof value === 'bigint' ? value.toString() : JSON.stringify(value);
  return text === undefined ? 'undefined' : text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function stringify(value: unknown): string | undefined {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item));
}

class Checker {
  readonly mismatches: string[] = [];

  equal(field: string, actual: unknown, expected: unknown): void {
    if (stringify(actual) !== stringify(expected)) this.mismatches.push(`${field}: got ${show(actual)}, expected ${show(expected)}`);
  }

  ok(field: string, condition: boolean, detail: string): void {
    if (!condition) this.mismatches.push(`${field}: ${detail}`);
  }
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?/;

/** Nanoseconds since the epoch of an RFC 3339 string (test data only); `zoneMs` applies when it has no offset. */
export function rfc3339Nanos(text: string, zoneMs = 0): bigint {
  const match = RFC3339.exec(text);
  if (!match) throw new Error(`not an RFC 3339 time: ${text}`);
  const [, year, month, day, hour, minute, second, fraction = '', zone] = match;
  let ms = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
  if (!zone) ms -= zoneMs;
  else if (zone !== 'Z') ms -= (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
  return BigInt(ms) * 1_000_000n + BigInt(fraction.slice(0, 9).padEnd(9, '0'));
}

/** Turns `log.record.original` back into bytes: `\\xHH` is one byte, everything else UTF-8. */
export function unescapeOriginal(text: string): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  for (const match of text.matchAll(/\\x([0-9A-F]{2})/g)) {
    parts.push(Buffer.from(text.slice(last, match.index), 'utf8'), Buffer.from([Number.parseInt(match[1], 16)]));
    last = (match.index ?? 0) + match[0].length;
  }
  parts.push(Buffer.from(text.slice(last), 'utf8'));
  return Buffer.concat(parts);
}

function attribute(record: PlainRecord, key: string): AttributeValue | undefined {
  return record.attributes[key];
}

function hasError(record: PlainRecord): boolean {
  return attribute(record, 'watchpost.parse.error') !== undefined;
}

/** True when the record has no timestamp of its own (it took the receive time). */
function usesReceiveTime(record: PlainRecord): boolean {
  return record.timeNanos === record.observedNanos;
}

/** Compares expected values that are a subset of the record: nested maps need only the expected keys. */
function subsetOf(expected: unknown, actual: unknown): boolean {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== 'object') return false;
    return Object.entries(expected).every(([key, value]) => subsetOf(value, (actual as Record<string, unknown>)[key]));
  }
  return JSON.stringify(expected) === JSON.stringify(actual);
}

// ----------------------------------------------------------------------------------------------
// influxdata/go-syslog: RFC 5424 and RFC 3164 machine tests, and RFC 6587 framing tests.

const GO_FIELDS: Record<string, string> = { hostname: 'hostname', appname: 'appname', procid: 'proc_id', msgid: 'msg_id', version: 'version' };

/** Checks go-syslog's expected message fields against a record. `partial` allows fields go-syslog did not reach. */
function checkGoSyslog(check: Checker, record: PlainRecord, expected: Json, partial: boolean): void {
  if (expected.priority !== undefined) check.equal('priority', attribute(record, 'priority'), expected.priority);
  if (expected.facility !== undefined) check.equal('facility', attribute(record, 'facility'), expected.facility);
  for (const [field, key] of Object.entries(GO_FIELDS)) {
    if (expected[field] !== undefined) check.equal(key, attribute(record, key), expected[field]);
    else if (!partial) check.equal(key, attribute(record, key), undefined);
  }
  if (typeof expected.timestamp === 'string') check.equal('time', record.timeNanos, rfc3339Nanos(expected.timestamp));
  else if (!partial) check.ok('time', usesReceiveTime(record), 'expected no timestamp');
  if (expected.structured_data !== undefined) {
    const ok = partial ? subsetOf(expected.structured_data, attribute(record, 'structured_data')) : JSON.stringify(attribute(record, 'structured_data')) === JSON.stringify(expected.structured_data);
    check.ok('structured_data', ok, `got ${show(attribute(record, 'structured_data'))}, expected ${show(expected.structured_data)}`);
  } else if (!partial) {
    check.equal('structured_data', attribute(record, 'structured_data'), undefined);
  }
  if (partial) return;
  const message = expected.message as string | { base64: string } | undefined;
  if (message === undefined) check.equal('body', record.body, '');
  else if (typeof message === 'string') check.equal('body', record.body, message);
  else {
    const bytes = Buffer.from(message.base64, 'base64');
    check.equal('body', record.body, bytes.toString('utf8'));
    const original = unescapeOriginal(String(attribute(record, 'log.record.original') ?? ''));
    check.ok('log.record.original', original.subarray(original.length - bytes.length).equals(bytes), `got ${show(original.toString('latin1'))}`);
  }
}

export function goSyslogRfc5424(): CaseResult[] {
  return cases('rfc5424_go-syslog.expected.json').map((entry, index) => {
    const record = parseOne(inputBytes(entry), { protocol: 'rfc5424' });
    const check = new Checker();
    if (entry.valid) {
      check.ok('error', !hasError(record), `unexpected error ${show(attribute(record, 'watchpost.parse.error'))}`);
      checkGoSyslog(check, record, entry.expected as Json, false);
    } else {
      check.ok('error', hasError(record), `expected an error like ${show(entry.error)}`);
      if (entry.partial) checkGoSyslog(check, record, entry.partial as Json, true);
    }
    return { id: `go-syslog rfc5424 #${index}`, input: inputBytes(entry).toString('latin1'), mismatches: check.mismatches };
  });
}

/** go-syslog's non-compliant cases are valid when the compliant-MSG option is off, its default and Watchpost's behaviour. */
export function goSyslogNonCompliantUtf8(): CaseResult[] {
  return cases('rfc5424_go-syslog_noncompliant_utf8.expected.json').map((entry, index) => {
    const bytes = inputBytes(entry);
    const record = parseOne(bytes, { protocol: 'rfc5424' });
    const check = new Checker();
    check.ok('error', !hasError(record), `unexpected error ${show(attribute(record, 'watchpost.parse.error'))}`);
    if (entry.partial) checkGoSyslog(check, record, entry.partial as Json, true);
    let spaces = 0;
    let start = 0;
    while (spaces < 7 && start < bytes.length) if (bytes[start++] === 0x20) spaces++;
    check.equal('body', record.body, bytes.subarray(start).toString('utf8'));
    check.ok('log.record.original', typeof attribute(record, 'log.record.original') === 'string', 'missing for invalid UTF-8');
    return { id: `go-syslog non-compliant UTF-8 #${index}`, input: bytes.toString('latin1'), mismatches: check.mismatches };
  });
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Nanoseconds of `Mmm dd hh:mm:ss` in a year, in UTC. */
function bsdNanos(text: string, year: number, zoneMs = 0): bigint {
  const [month, day, clock] = text.trim().split(/\s+/);
  const [hour, minute, second] = clock.split(':').map(Number);
  const ms = Date.UTC(year, MONTHS.findIndex((name) => name.toLowerCase() === month.toLowerCase()), Number(day), hour, minute, second) - zoneMs;
  return BigInt(ms) * 1_000_000n;
}

/**
 * go-syslog's RFC 3164 parser, which the Collector's syslog receiver runs, takes a word as the TAG
 * only when a colon follows it (after an optional `[pid]`): Watchpost's `tag_requires_colon`.
 */
export function goSyslogRfc3164(): CaseResult[] {
  return cases('rfc3164_go-syslog.expected.json').map((entry, index) => {
    const record = parseOne(inputBytes(entry), { protocol: 'rfc3164', rfc3164: { tag_requires_colon: true } });
    const expected = entry.expected as Json;
    const check = new Checker();
    check.ok('error', !hasError(record), `unexpected error ${show(attribute(record, 'watchpost.parse.error'))}`);
    check.equal('time', record.timeNanos, bsdNanos((expected.timestamp as { value: string }).value, 2024));
    checkGoSyslog(check, record, { ...expected, timestamp: undefined }, true);
    for (const field of ['hostname', 'appname', 'procid']) check.equal(GO_FIELDS[field], attribute(record, GO_FIELDS[field]), expected[field]);
    check.equal('body', record.body, expected.message);
    return { id: `go-syslog rfc3164 #${index}`, input: String(entry.input), mismatches: check.mismatches };
  });
}

interface GoFramingCase {
  file: string;
  input?: string;
  best_effort_results: { message?: Json; error?: string }[];
}

export function goSyslogFraming(): CaseResult[] {
  const data = readJson('framing/go-syslog_framing.expected.json');
  const results: CaseResult[] = [];
  const run = (entry: GoFramingCase, framing: 'octet_counting' | 'non_transparent', trailer: 'LF' | 'NUL', maxMessageSize: number) => {
    const stream = readFileSync(join(FIXTURES, 'framing', entry.file));
    const framed = frameStream(stream, { framing, trailer, maxMessageSize, chunkSize: 3 });
    const records = parseFrames(framed.frames.map((frame) => frame.bytes), { protocol: 'rfc5424' });
    const check = new Checker();
    let next = 0;
    for (const [position, expected] of entry.best_effort_results.entries()) {
      if (expected.message) {
        const record = records[next++];
        if (!record) {
          check.ok(`result ${position}`, false, 'no record');
          continue;
        }
        checkGoSyslog(check, record, expected.message, true);
        if (expected.message.message !== undefined) check.equal('body', record.body, expected.message.message);
        if (expected.error) check.ok(`result ${position}`, hasError(record) || framed.problems.length > 0, `expected an error like ${show(expected.error)}`);
      } else if (stream.length > 0) {
        // An error-only result: the bytes must come out as a record marked as failed, or as a counted framing problem.
        const record = records[next];
        if (record && hasError(record)) next++;
        else check.ok(`result ${position}`, framed.problems.length > 0 || (maxMessageSize < stream.length && records.length > 0), `expected an error like ${show(expected.error)}`);
      }
    }
    check.equal('record count', records.length, next);
    results.push({ id: `go-syslog framing ${entry.file}`, input: stream.toString('latin1').slice(0, 200), mismatches: check.mismatches });
  };
  for (const entry of data.octet_counting as GoFramingCase[]) {
    // Case 11 runs the source parser with a maximum message length of 10.
    run(entry, 'octet_counting', 'LF', entry.file === 'octet_go-syslog_11.stream' ? 10 : 64 * 1024);
  }
  for (const entry of data.non_transparent as GoFramingCase[]) run(entry, 'non_transparent', entry.file.includes('_NUL') ? 'NUL' : 'LF', 64 * 1024);
  return results;
}

// ----------------------------------------------------------------------------------------------
// syslog-ng lib/tests/test_msgparse.c. The test runs with TZ=MET-1METDST and the clock at 1549615069.

const SYSLOG_NG_NOW_MS = 1549615069_000;

function syslogNgSd(data: AttributeValue | undefined): string {
  if (!data || typeof data !== 'object') return '';
  const escape = (value: string) => value.replace(/[\\"\]]/g, (char) => `\\${char}`);
  return Object.entries(data as Record<string, Record<string, string>>)
    .map(([id, params]) => `[${id}${Object.entries(params).map(([name, value]) => ` ${name}="${escape(value)}"`).join('')}]`)
    .join('');
}

/** Watchpost's protocol for syslog-ng's parse flags: LP_NOPARSE and LP_NO_HEADER read no header at all. */
function syslogNgProtocol(flags: string): SyslogParserOptions['protocol'] {
  if (flags.includes('LP_SYSLOG_PROTOCOL')) return 'rfc5424';
  return flags.includes('LP_NOPARSE') || flags.includes('LP_NO_HEADER') ? 'none' : 'rfc3164';
}

/** Converts a `bad-hostname()` regular expression to a glob; the tests use only `^prefix`. */
function badHostnameGlob(regex: string): string {
  if (!/^\^[\w%]+$/.test(regex)) throw new Error(`bad_hostname_re ${regex} has no glob translation`);
  return `${regex.slice(1)}*`;
}

/**
 * Maps syslog-ng's parse flags to Watchpost options. Without LP_EXPECT_HOSTNAME the word after the
 * TIMESTAMP is the program (`expect_hostname: false`), and syslog-ng takes the first word of a
 * message without TIMESTAMP as the program (`headerless: tag`).
 */
function syslogNgOptions(entry: Json): Partial<SyslogParserOptions> {
  const flags = String(entry.parse_flags ?? '0');
  const badHostname = entry.bad_hostname_re as string | null | undefined;
  return {
    protocol: syslogNgProtocol(flags),
    location: 'MET',
    rfc3164: { expect_hostname: flags.includes('LP_EXPECT_HOSTNAME'), bad_hostnames: badHostname ? [badHostnameGlob(badHostname)] : [], headerless: 'tag' },
  };
}

export function syslogNg(): CaseResult[] {
  return cases('syslog-ng_msgparse.expected.json').map((entry, index) => {
    const flags = String(entry.parse_flags ?? '0');
    const bytes = inputBytes(entry);
    const record = parseOne(bytes, syslogNgOptions(entry), SYSLOG_NG_NOW_MS);
    const check = new Checker();
    const pri = entry.expected_pri as number | undefined;
    if (pri === 43 && entry.expected_program === 'syslog-ng') {
      // LP_PIGGYBACK_ERRORS: syslog-ng reports a parse error as an internal message.
      check.ok('error', hasError(record), 'expected a parse error');
      return { id: `syslog-ng ${entry.test} #${index}`, input: bytes.toString('latin1'), mismatches: check.mismatches };
    }
    if (pri !== undefined && pri !== 65535) check.equal('priority', attribute(record, 'priority'), pri);
    const seconds = entry.expected_stamp_sec as number | undefined;
    if (seconds === 0 || seconds === SYSLOG_NG_NOW_MS / 1000) check.ok('time', usesReceiveTime(record), 'expected no timestamp');
    else if (seconds !== undefined) {
      if (seconds !== 1) check.equal('time seconds', Number(record.timeNanos / 1_000_000_000n), seconds);
      if (entry.expected_stamp_usec !== undefined) check.equal('time microseconds', Number((record.timeNanos % 1_000_000_000n) / 1000n), entry.expected_stamp_usec);
    }
    const host = entry.expected_host as string | null | undefined;
    if (host !== undefined && host !== null) check.equal('hostname', attribute(record, 'hostname'), host === '' ? undefined : host);
    const program = entry.expected_program as string | null | undefined;
    if (program !== undefined && program !== null) check.equal('appname', attribute(record, 'appname'), program === '' ? undefined : program);
    const message = entry.expected_msg as string | null | undefined;
    if (message !== undefined && message !== null) {
      if (flags.includes('LP_SANITIZE_UTF8')) {
        const original = String(attribute(record, 'log.record.original') ?? record.body);
        check.ok('body', original.toLowerCase().endsWith(message.toLowerCase()), `original ${show(original)} does not end with ${show(message)}`);
      } else {
        check.equal('body', record.body.replace(/^\ufeff/, ''), message);
      }
    }
    for (const [field, key] of [['expected_pid', 'proc_id'], ['expected_msgid', 'msg_id']] as const) {
      const value = entry[field];
      if (typeof value === 'string') check.equal(key, attribute(record, key), value === '' ? undefined : value);
    }
    if (typeof entry.expected_sd_str === 'string') check.equal('structured_data', syslogNgSd(attribute(record, 'structured_data')), entry.expected_sd_str);
    return { id: `syslog-ng ${entry.test} #${index}`, input: bytes.toString('latin1'), mismatches: check.mismatches };
  });
}

// ----------------------------------------------------------------------------------------------
// rsyslog tests/*.sh: expected output through an rsyslog template. The record is rendered with
// the same template, reading each rsyslog property off the record and the raw input.

const RSYSLOG_FACILITIES = ['kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news', 'uucp', 'cron', 'authpriv', 'ftp', 'ntp', 'audit', 'alert', 'clock', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'];
const RSYSLOG_SEVERITIES = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

const FORCE_TAG_COLON = 'force.tagEndingByColon="on"';

/**
 * The text after the TAG as rsyslog keeps it in RFC 3164 messages: with the space or tab that
 * follows the TAG (rsyslog's snare parser turns that tab into a space). Watchpost drops that one
 * separator from the body, as go-syslog and the Collector do. With force.tagEndingByColon and no
 * TAG, rsyslog's %msg% starts right after the HOSTNAME, so it keeps that separator too.
 */
function rsyslogMsg(record: PlainRecord, raw: string, config: string): string {
  const start = raw.length - record.body.length;
  const rfc3164 = attribute(record, 'version') === undefined;
  const tagged = attribute(record, 'appname') !== undefined || (config.includes(FORCE_TAG_COLON) && attribute(record, 'hostname') !== undefined);
  const separated = record.body !== '' && raw.endsWith(record.body) && tagged && (raw[start - 1] === ' ' || raw[start - 1] === '\t');
  let msg = rfc3164 && separated && !config.includes('remove.msgFirstSpace="on"') ? ` ${record.body}` : record.body;
  if (config.includes('escapeControlCharactersCStyle="on"')) msg = msg.replace(/\t/g, '\\t');
  if (config.includes('$Escape8BitCharactersOnReceive on')) msg = [...Buffer.from(msg, 'utf8')].map((byte) => (byte > 0x7f ? `#${byte.toString(8)}` : String.fromCharCode(byte))).join('');
  return msg;
}

/** rsyslog's %syslogtag%: the TAG as written, or `-` when force.tagEndingByColon found none. */
function rsyslogTag(record: PlainRecord, raw: string, config: string): string {
  const appname = attribute(record, 'appname');
  if (appname === undefined) return config.includes(FORCE_TAG_COLON) ? '-' : '';
  const procId = attribute(record, 'proc_id');
  let tag = `${appname}${procId !== undefined ? `[${procId}]` : ''}`;
  let end = raw.length - record.body.length;
  if (raw[end - 1] === ' ' && record.body !== '') end--;
  if (raw[end - 1] === ':') tag += ':';
  return tag;
}

/** The UTC offset written in an RFC 3339 timestamp of the raw input, in milliseconds. */
function inputOffsetMs(raw: string): number {
  const match = /\d{2}:\d{2}:\d{2}(?:\.\d+)?([+-]\d{2}):(\d{2})/.exec(raw);
  if (!match) return 0;
  return Math.sign(Number(match[1] + '1')) * (Math.abs(Number(match[1])) * 60 + Number(match[2])) * 60_000;
}

function rsyslogTimestamp(record: PlainRecord, raw: string, format: string): string {
  if (usesReceiveTime(record)) return '';
  const offset = inputOffsetMs(raw);
  const local = new Date(Number(record.timeNanos / 1_000_000n) + offset);
  const pad = (value: number) => String(value).padStart(2, '0');
  const month = MONTHS[local.getUTCMonth()];
  const clock = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  if (format === 'date-rfc3164-buggyday') return `${month} ${pad(local.getUTCDate())} ${clock}`;
  if (format.startsWith('date-rfc3339')) {
    const digits = /\d{2}:\d{2}:\d{2}\.(\d+)/.exec(raw)?.[1]?.length ?? 0;
    const fraction = digits > 0 ? `.${(record.timeNanos % 1_000_000_000n).toString().padStart(9, '0').slice(0, Math.min(digits, 6))}` : '';
    const zone = offset === 0 && /Z\s/.test(raw) ? 'Z' : `${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 3_600_000))}:${pad((Math.abs(offset) / 60_000) % 60)}`;
    return `${local.toISOString().slice(0, 19)}${fraction}${zone}`;
  }
  return `${month} ${String(local.getUTCDate()).padStart(2, ' ')} ${clock}`;
}

/** rsyslog's %programname%: the TAG up to the first `/`. */
function programName(record: PlainRecord): string {
  return String(attribute(record, 'appname') ?? '').split('/')[0];
}

function rsyslogProperty(record: PlainRecord, raw: string, name: string, format: string, config: string): string {
  const priority = Number(attribute(record, 'priority'));
  switch (name.toLowerCase()) {
    case 'pri': return String(priority);
    case 'syslogfacility-text': return RSYSLOG_FACILITIES[priority >> 3];
    case 'syslogseverity-text': return RSYSLOG_SEVERITIES[priority & 7];
    case 'syslogseverity': return String(priority & 7);
    case 'timestamp':
    case 'timereported': return rsyslogTimestamp(record, raw, format);
    case 'hostname': return String(attribute(record, 'hostname') ?? '$RS_HOSTNAME');
    case 'programname': return programName(record);
    case 'syslogtag': return rsyslogTag(record, raw, config);
    case 'app-name': return programName(record) || '-';
    case 'msg': return rsyslogMsg(record, raw, config);
    case 'rawmsg': return raw;
    default: throw new Error(`rsyslog property %${name}% has no rendering`);
  }
}

/** Renders an rsyslog template with `%name%` and `%name:from:to:options%` properties. */
function renderRsyslog(template: string, record: PlainRecord, raw: string, config: string): string {
  return template.replace(/\\n$/, '').replace(/%([A-Za-z-]+)((?::[^%]*)?)%/g, (_match, name: string, spec: string) => {
    const parts = spec.split(':');
    let value = rsyslogProperty(record, raw, name, parts[1]?.startsWith('R,') ? '' : (parts[3] ?? '').split(',')[0], config);
    const from = Number(parts[1]);
    const to = Number(parts[2]);
    if (parts[1] === 'R,ERE,0,BLANK') value = /[0-9]+/.exec(value)?.[0] ?? '';
    else if (from > 0 && to > 0) value = value.slice(from - 1, to);
    const flags = parts.at(-1) ?? '';
    if (flags.includes('drop-last-lf')) value = value.replace(/\n$/, '');
    if (flags.split(',').includes('csv')) value = `"${value.replace(/"/g, '""')}"`;
    return value;
  });
}

/**
 * Maps an rsyslog parser config to Watchpost options. rsyslog reads a HOSTNAME and a TAG from a
 * message without TIMESTAMP unless `detect.headerless` is on, reads the Cisco IOS form only with
 * its ciscoios parser module, and takes bare TAGs unless `force.tagEndingByColon` is on.
 */
function rsyslogOptions(config: string): Partial<SyslogParserOptions> {
  return {
    rfc3164: {
      headerless: config.includes('detect.headerless="on"') ? 'content' : 'hostname_and_tag',
      cisco_ios: config.includes('ciscoios'),
      tag_requires_colon: config.includes(FORCE_TAG_COLON),
    },
  };
}

export function rsyslogParserTests(): CaseResult[] {
  const all = cases('rsyslog_parsertests.expected.json');
  const results: CaseResult[] = [];
  const render = (entry: Json) => {
    const raw = inputBytes(entry);
    const record = parseOne(raw, rsyslogOptions(((entry.parser_config ?? []) as string[]).join(' ')));
    // The worker drops trailing CR and LF, as rsyslog's parser.dropTrailingCROnReception does.
    return { record, raw: raw.toString('utf8').replace(/[\r\n]+$/, ''), config: ((entry.parser_config ?? []) as string[]).join(' ') };
  };
  for (const [index, entry] of all.entries()) {
    const id = `rsyslog ${String(entry.source_script).replace('tests/', '')} #${index}`;
    const expected = entry.expected_output as string | null | undefined;
    if (typeof expected !== 'string') continue;
    const { record, raw, config } = render(entry);
    const check = new Checker();
    if (entry.rsyslog_template) check.equal('output', renderRsyslog(String(entry.rsyslog_template), record, raw, config), expected);
    else check.equal('time in UTC', isoNanos(record.timeNanos).replace(/(\.\d{6})\d{3}Z$/, '$1+00:00'), expected);
    results.push({ id, input: raw, mismatches: check.mismatches });
  }
  // Scripts whose output covers the whole test: each expected line must come out of one input.
  const scripts = new Map<string, Json[]>();
  for (const entry of all) {
    if (typeof entry.expected_output === 'string' || typeof entry.expected_output_whole_test !== 'string' || entry.expected_output_whole_test === '$EXPECTED') continue;
    scripts.set(String(entry.source_script), [...(scripts.get(String(entry.source_script)) ?? []), entry]);
  }
  for (const [script, entries] of scripts) {
    const rendered = entries.flatMap((entry) => {
      const { record, raw, config } = render(entry);
      const maxSize = /\$MaxMessageSize (\d+)/.exec(config)?.[1];
      if (!maxSize) return [renderRsyslog(String(entry.rsyslog_template), record, raw, config)];
      // The input holds several LF-framed messages and the test limits their size.
      const frames = frameStream(inputBytes(entry), { maxMessageSize: Number(maxSize) }).frames;
      return frames.map((frame) => renderRsyslog(String(entry.rsyslog_template), parseOne(frame.bytes, rsyslogOptions(config)), frame.bytes.toString('utf8'), config));
    });
    for (const [line, expected] of String(entries[0].expected_output_whole_test).split('\n').entries()) {
      const check = new Checker();
      check.ok('output', rendered.includes(expected), `no input renders ${show(expected)}; rendered ${show(rendered)}`);
      results.push({ id: `rsyslog ${script.replace('tests/', '')} line ${line + 1}`, input: entries.map((entry) => String(entry.input)).join(' | '), mismatches: check.mismatches });
    }
  }
  return results;
}

export function rsyslogFuzzSeeds(): CaseResult[] {
  return cases('rsyslog_fuzz_seeds.expected.json').map((entry) => {
    const raw = inputBytes(entry);
    const record = parseOne(raw, {});
    const expected = entry.expected as Json;
    const check = new Checker();
    check.equal('priority', attribute(record, 'priority'), Number.parseInt(String(expected.priority), 10));
    for (const [field, key] of Object.entries(GO_FIELDS)) if (field in expected) check.equal(key, attribute(record, key), expected[field] ?? undefined);
    if ('structured_data' in expected) check.equal('structured_data', attribute(record, 'structured_data'), expected.structured_data ?? undefined);
    if (typeof expected.timestamp === 'string') {
      const time = expected.timestamp.includes('T') ? rfc3339Nanos(expected.timestamp) : bsdNanos(expected.timestamp, 2024);
      check.equal('time', record.timeNanos, time);
    } else if ('timestamp' in expected) {
      check.ok('time', usesReceiveTime(record), 'expected no timestamp');
    }
    if (expected.message !== undefined) check.equal('body', record.body, expected.message);
    return { id: `rsyslog fuzz seed ${entry.seed}`, input: raw.toString('latin1'), mismatches: check.mismatches };
  });
}

// ----------------------------------------------------------------------------------------------
// OpenTelemetry Collector pkg/stanza syslog parser. RFC 3164 times use the configured location and the current year.

const STANZA_SEVERITY: Record<string, number> = { 'Default(0)': 0, 'Info(9)': 9, 'Error(17)': 17, 'Error2(18)': 18 };

export function otelStanza(): CaseResult[] {
  const nowMs = Date.UTC(2024, 5, 15, 12);
  return cases('otel_stanza_syslog.expected.json').map((entry) => {
    const config = entry.config as Json;
    const raw = inputBytes(entry);
    const options: Partial<SyslogParserOptions> = {
      protocol: config.protocol as 'rfc5424' | 'rfc3164' | 'none',
      location: String(config.location ?? 'UTC'),
      allow_skip_pri_header: config.allow_skip_pri_header === true,
    };
    const framed = config.enable_octet_counting || config.non_transparent_framing_trailer
      ? frameStream(raw, { framing: config.enable_octet_counting ? 'octet_counting' : 'non_transparent', trailer: config.non_transparent_framing_trailer === 'NUL' ? 'NUL' : 'LF', maxMessageSize: Number(config.max_octets ?? 8192) })
      : { frames: [{ bytes: raw, originalSize: undefined }], problems: [] };
    const record = parseFrames(framed.frames.map((frame) => frame.bytes), options, nowMs)[0];
    const expected = entry.expected as Json;
    const check = new Checker();
    if (expected.error !== undefined) {
      const truncated = framed.frames[0]?.originalSize !== undefined;
      check.ok('error', hasError(record) || truncated, `expected an error like ${show(expected.error)}`);
      return { id: `otel stanza ${entry.name}`, input: raw.toString('latin1'), mismatches: check.mismatches };
    }
    if (typeof expected.severity === 'string') check.equal('severity number', record.severityNumber, STANZA_SEVERITY[expected.severity]);
    if (typeof expected.severity_text === 'string') check.equal('severity text', record.severityText, expected.severity_text);
    const attributes = (expected.attributes ?? {}) as Json;
    for (const [key, value] of Object.entries(attributes)) {
      if (key === 'message') check.equal('body', record.body, value);
      else if (key === 'structured_data') check.ok(key, subsetOf(value, attribute(record, key)) && subsetOf(attribute(record, key), value), `got ${show(attribute(record, key))}`);
      else if (key !== 'facility_text') check.equal(key, attribute(record, key), value);
    }
    if (typeof expected.timestamp === 'string') {
      check.equal('time', record.timeNanos, rfc3339Nanos(expected.timestamp.replace('<current year>', '2024')));
    }
    return { id: `otel stanza ${entry.name}`, input: raw.toString('latin1'), mismatches: check.mismatches };
  });
}

// ----------------------------------------------------------------------------------------------
// Vector VRL parse_syslog (syslog_loose): names instead of numbers, SD elements as top-level keys.

const VRL_KEYS = new Set(['severity', 'facility', 'timestamp', 'hostname', 'appname', 'procid', 'msgid', 'message', 'version']);

export function vrl(): CaseResult[] {
  const nowMs = Date.UTC(2024, 5, 15, 12);
  return cases('vrl_parse_syslog.expected.json').map((entry) => {
    const raw = inputBytes(entry);
    const record = parseOne(raw, {}, nowMs);
    const expected = entry.expected as { ok?: Json; err?: string };
    const check = new Checker();
    if (expected.err !== undefined) {
      check.ok('error', hasError(record), `expected an error like ${show(expected.err)}`);
      return { id: `vrl ${entry.name}`, input: raw.toString('latin1'), mismatches: check.mismatches };
    }
    const ok = expected.ok as Json;
    const priority = Number(attribute(record, 'priority'));
    if (ok.severity !== undefined) check.equal('severity', RSYSLOG_SEVERITIES[priority & 7], ok.severity);
    if (ok.facility !== undefined) check.equal('facility', RSYSLOG_FACILITIES[priority >> 3].replace('authpriv', 'authpriv'), ok.facility);
    for (const [field, key] of Object.entries(GO_FIELDS)) {
      if (ok[field] !== undefined) check.equal(key, attribute(record, key), field === 'version' ? ok[field] : String(ok[field]));
      else check.equal(key, attribute(record, key), undefined);
    }
    check.equal('body', record.body, ok.message);
    const utc = (ok.timestamp as { timestamp_utc: string }).timestamp_utc.replace('<current year>', '2024');
    check.equal('time', record.timeNanos, rfc3339Nanos(utc));
    const data = Object.fromEntries(Object.entries(ok).filter(([key]) => !VRL_KEYS.has(key)));
    const actualData = attribute(record, 'structured_data') as Record<string, unknown> | undefined;
    check.ok('structured_data', subsetOf(data, actualData ?? {}) && Object.keys(actualData ?? {}).length === Object.keys(data).length, `got ${show(actualData)}, expected ${show(data)}`);
    return { id: `vrl ${entry.name}`, input: raw.toString('latin1'), mismatches: check.mismatches };
  });
}

// ----------------------------------------------------------------------------------------------
// CrowdSec hub parser tests: Evt.Parsed fields of crowdsecurity/syslog-logs.

export function crowdsec(): CaseResult[] {
  const results: CaseResult[] = [];
  for (const file of ['crowdsec/crowdsec_syslog-logs.expected.json', 'crowdsec/crowdsec_pfsense-rfc5424-filterlog.expected.json', 'crowdsec/crowdsec_pfsense-rfc5424-nginx.expected.json']) {
    for (const entry of cases(file)) {
      const raw = inputBytes(entry);
      const record = parseOne(raw, {});
      const stage = (entry.expected as Json)['s00-raw/crowdsecurity/syslog-logs'] as { parsed: Json; meta: Json } | undefined;
      if (!stage) continue;
      const parsed = stage.parsed;
      const check = new Checker();
      if (parsed.program !== undefined) check.equal('appname', attribute(record, 'appname'), parsed.program);
      if (parsed.pid !== undefined) check.equal('proc_id', attribute(record, 'proc_id'), parsed.pid);
      if (parsed.message !== undefined) check.equal('body', record.body, parsed.message);
      if (parsed.syslog_priority !== undefined) check.equal('priority', attribute(record, 'priority'), Number(parsed.syslog_priority));
      if (parsed.syslog_version !== undefined) check.equal('version', attribute(record, 'version'), Number(parsed.syslog_version));
      if (typeof parsed.timestamp8601 === 'string') check.equal('time', record.timeNanos, rfc3339Nanos(parsed.timestamp8601));
      if (typeof parsed.timestamp === 'string') check.equal('time', record.timeNanos, bsdNanos(parsed.timestamp, 2024));
      if (stage.meta.machine !== undefined) check.equal('hostname', attribute(record, 'hostname'), stage.meta.machine);
      results.push({ id: `crowdsec ${file.split('/')[1]} line ${entry.line}`, input: raw.toString('latin1'), mismatches: check.mismatches });
    }
  }
  return results;
}

// ----------------------------------------------------------------------------------------------
// Constructed edge cases, long messages, rsyslog framing test data, and peer bug regressions.

function checkCorpusFields(check: Checker, record: PlainRecord, expected: Json): void {
  if (expected.priority !== undefined) check.equal('priority', attribute(record, 'priority'), Number.parseInt(String(expected.priority), 10));
  if (expected.facility !== undefined) check.equal('facility', attribute(record, 'facility'), expected.facility);
  if (expected.severity !== undefined) check.equal('severity', Number(attribute(record, 'priority')) & 7, expected.severity);
  for (const [field, key] of Object.entries(GO_FIELDS)) if (field in expected) check.equal(key, attribute(record, key), expected[field] ?? undefined);
  if ('structured_data' in expected) check.equal('structured_data', attribute(record, 'structured_data'), expected.structured_data ?? undefined);
  if (typeof expected.timestamp === 'string' && /^\d{4}-/.test(expected.timestamp)) check.equal('time', record.timeNanos, rfc3339Nanos(expected.timestamp));
  if (typeof expected.timestamp === 'string' && expected.timestamp.startsWith('<receive time')) check.ok('time', usesReceiveTime(record), 'expected the receive time');
  if (typeof expected.timestamp_local === 'string') check.equal('time', record.timeNanos, rfc3339Nanos(expected.timestamp_local));
  if (expected.message !== undefined) check.equal('body', record.body.replace(/^\ufeff/, ''), expected.message);
}

export function edgeCases(): CaseResult[] {
  return cases('edgecases/constructed_edgecases.expected.json').map((entry) => {
    const raw = inputBytes(entry);
    const record = parseOne(raw, {});
    const expected = entry.expected as Json;
    const check = new Checker();
    if (expected.valid === false) check.ok('error', hasError(record), 'expected a parse error');
    else checkCorpusFields(check, record, expected);
    return { id: `edge case line ${entry.line}`, input: raw.toString('latin1'), mismatches: check.mismatches };
  });
}

export function longMessages(): CaseResult[] {
  const results: CaseResult[] = [];
  const octet = frameStream(readFileSync(join(FIXTURES, 'edgecases', 'long_65k_rfc5424.octet-framed')), { chunkSize: 1500 });
  const octetRecords = parseFrames(octet.frames.map((frame) => frame.bytes));
  const check65k = new Checker();
  check65k.equal('records', octetRecords.length, 1);
  check65k.equal('body', octetRecords[0]?.body, 'A'.repeat(65000));
  results.push({ id: 'long 65k octet-counted frame', input: '65055 <13>1 ...', mismatches: check65k.mismatches });

  const line = frameStream(readFileSync(join(FIXTURES, 'edgecases', 'long_2MiB_newline.stream')), { chunkSize: 65536 });
  const lineRecords = parseFrames(line.frames.map((frame) => frame.bytes));
  const check2m = new Checker();
  check2m.equal('records', lineRecords.length, 2);
  check2m.ok('head', lineRecords[0]?.attributes.appname === 'app' && lineRecords[0]?.body.startsWith('BBBB'), 'the first record must hold the head of the long line');
  check2m.equal('truncated', line.frames[0]?.originalSize, -1);
  check2m.equal('second body', lineRecords[1]?.body, 'after-long-line');
  results.push({ id: 'long 2 MiB line', input: '<13>Jan  1 00:00:00 host1.example.com app: BBBB...', mismatches: check2m.mismatches });
  return results;
}

export function rsyslogFraming(): CaseResult[] {
  const stream = (name: string) => readFileSync(join(FIXTURES, 'framing', name));
  const records = (name: string) => parseFrames(frameStream(stream(name), { chunkSize: 7 }).frames.map((frame) => frame.bytes));
  const bodies = (name: string) => records(name).map((record) => record.body);
  const results: CaseResult[] = [];
  const numbered = Array.from({ length: 20 }, (_, i) => String(i));

  const spFix = new Checker();
  spFix.equal('bodies', bodies('rsyslog_spframingfix.testdata'), numbered.map((n) => n.padStart(2, '0')));
  results.push({ id: 'rsyslog spframingfix.testdata', input: '<181>00\\n <181>01...', mismatches: spFix.mismatches });

  const digits = new Checker();
  digits.equal('bodies', bodies('rsyslog_no_octet_counted.testdata'), numbered);
  results.push({ id: 'rsyslog no_octet_counted.testdata', input: '0\\n1\\n...', mismatches: digits.mismatches });

  for (const name of ['rsyslog_imtcp-multiline.testdata', 'rsyslog_imptcp_multi_line.testdata']) {
    // Without a multi-line option each line is a message: continuation lines become records of their own.
    const check = new Checker();
    const text = stream(name).toString('utf8');
    const found = bodies(name);
    for (const line of text.split('\n').filter((item) => item.length > 0)) {
      const content = line.startsWith('<') ? line.split(' ').slice(-1)[0] : line;
      check.ok('content', found.some((body) => body.endsWith(content)), `no record ends with ${show(content)}`);
    }
    results.push({ id: `rsyslog ${name}`, input: text.slice(0, 80), mismatches: check.mismatches });
  }
  return results;
}

export function regressions(): CaseResult[] {
  const data = readJson('regressions/peer_bug_regressions.expected.json');
  return (data.cases as Json[]).map((entry) => {
    const stream = readFileSync(join(FIXTURES, 'regressions', String(entry.file)));
    const transport = String(entry.transport);
    const messages = transport.startsWith('tcp') ? frameStream(stream, { chunkSize: 5 }).frames.map((frame) => frame.bytes) : [stream];
    const records = parseFrames(messages, { protocol: transport.includes('rfc5424') ? 'rfc5424' : 'auto' });
    const check = new Checker();
    const expected = entry.expected as Json[];
    check.equal('records', records.length, expected.length);
    for (const [index, fields] of expected.entries()) {
      const record = records[index];
      if (!record) continue;
      if (fields.rfc5424_error !== undefined) {
        check.ok('error', hasError(record), 'expected an RFC 5424 error');
        check.ok('body', record.body.endsWith(String(fields.best_effort_message)), `body ${show(record.body)}`);
        check.equal('priority', attribute(record, 'priority'), fields.priority);
        continue;
      }
      const { message_bytes_hex: hex, message_lossy_utf8: lossy, ...rest } = fields;
      const nineDigits = typeof rest.timestamp === 'string' && rest.timestamp.includes('(or');
      checkCorpusFields(check, record, nineDigits ? { ...rest, timestamp: undefined } : rest);
      if (typeof lossy === 'string') check.equal('body', record.body, lossy);
      if (typeof hex === 'string') check.ok('log.record.original', String(attribute(record, 'log.record.original') ?? '').includes('Gr\\xFC\\xDFe'), 'the original must keep the Latin-1 bytes');
      if (nineDigits) check.equal('time fraction', isoFraction(record.timeNanos), '000006930');
    }
    return { id: `regression ${entry.bug}`, input: stream.toString('latin1').slice(0, 200), mismatches: check.mismatches };
  });
}

function isoFraction(nanos: bigint): string {
  return (nanos % 1_000_000_000n).toString().padStart(9, '0');
}

/** Every source, in one list. */
export function allSources(): Record<string, () => CaseResult[]> {
  return {
    'go-syslog rfc5424': goSyslogRfc5424,
    'go-syslog non-compliant UTF-8': goSyslogNonCompliantUtf8,
    'go-syslog rfc3164': goSyslogRfc3164,
    'go-syslog framing': goSyslogFraming,
    'syslog-ng': syslogNg,
    'rsyslog parser tests': rsyslogParserTests,
    'rsyslog fuzz seeds': rsyslogFuzzSeeds,
    'rsyslog framing': rsyslogFraming,
    'otel stanza': otelStanza,
    vrl,
    crowdsec,
    'edge cases': edgeCases,
    'long messages': longMessages,
    regressions,
  };
}
