import { isUtf8 } from 'node:buffer';
import type { ExportLogsServiceRequest, IKeyValue, ILogRecord } from '../../core/otlp/codec.js';
import { keyValue } from '../../core/otlp/attributes.js';
import type { FrameParser, Frames, LineContext, LineParser, LineParseResult, WorkerModule } from '../../core/pool/worker-api.js';
import { fieldParser, type FieldParser } from '../helper/accesslog/formats.js';
import { accessLogRecord } from '../helper/accesslog/record.js';
import { attributeOf, OtlpLogsEncoder } from '../helper/otlp-logs.js';
import { defaultRfc3164Config, type Rfc3164Config } from './config.js';
import { globMatcher } from './glob.js';
import type { ParseOptions, Rfc3164Options } from './message.js';
import { parseSyslog } from './parse.js';
import { millisToNanos, syslogRecord } from './record.js';
import { AttributeCache, anyValue } from './attributes.js';
import { TimeZone } from './timezone.js';
import { backslashEscape, decodeUtf8Escaping, percentEscape } from './utf8.js';

/*
 * Worker-thread side of the syslog receiver: parses framed messages into OTLP log records. The
 * main thread only frames and batches bytes; everything here runs in the worker pool.
 */

/** Options of the syslog parsers, set from the receiver's config. */
export interface SyslogParserOptions {
  protocol: 'rfc5424' | 'rfc3164' | 'auto' | 'none';
  /** IANA time zone of timestamps without an offset, or `Local`. */
  location: string;
  allow_skip_pri_header: boolean;
  /** RFC 3164 reading options; missing keys take their defaults. */
  rfc3164?: Partial<Rfc3164Config>;
  /** An access-log format to read the message with, such as `nginx_combined`. */
  access_log?: { format: string; log_format?: string };
}

const BOM = '\ufeff';

interface Parser {
  options: ParseOptions;
  accessLog?: FieldParser;
  encoder: OtlpLogsEncoder;
  cache: AttributeCache;
}

function rfc3164Options(config: Partial<Rfc3164Config> | undefined): Rfc3164Options {
  const merged = { ...defaultRfc3164Config(), ...config };
  return {
    expectHostname: merged.expect_hostname,
    badHostnames: merged.bad_hostnames.map(globMatcher),
    tagRequiresColon: merged.tag_requires_colon,
    ciscoIos: merged.cisco_ios,
    headerless: merged.headerless,
  };
}

function createParser(options: SyslogParserOptions): Parser {
  const encoder = new OtlpLogsEncoder();
  const parser: Parser = {
    encoder,
    cache: new AttributeCache(encoder),
    options: {
      protocol: options.protocol,
      timeZone: new TimeZone(options.location),
      nowMs: 0,
      allowSkipPri: options.allow_skip_pri_header,
      rfc3164: rfc3164Options(options.rfc3164),
    },
  };
  if (options.access_log) parser.accessLog = fieldParser(options.access_log.format, { log_format: options.access_log.log_format });
  return parser;
}

/**
 * Adds the HTTP attributes of an access-log line carried in the message. Bytes that are not valid
 * UTF-8 reach the access-log parser percent-encoded, so a path such as `/..\xc0\xae/` keeps the
 * bytes that detection decodes.
 */
function addAccessLog(record: ILogRecord, parser: Parser, message: string, percentText: () => string | undefined, observedMs: number): void {
  const accessLog = parser.accessLog as FieldParser;
  let line = percentText() ?? message;
  if (line.startsWith(BOM)) line = line.slice(1);
  let fields;
  try {
    fields = accessLog(line);
  } catch {
    fields = undefined;
  }
  if (!fields) {
    (record.attributes as IKeyValue[]).push(keyValue('watchpost.access_log.error', 'message does not match the access-log format'));
    return;
  }
  const access = accessLogRecord(line, fields, observedMs, []);
  (record.attributes as IKeyValue[]).push(...(access.attributes ?? []));
}

/** Counts of one batch. */
interface BatchCounts {
  /** Records kept with the raw text because the message breaks its grammar. */
  failed: number;
}

/**
 * Parses the message in `data[start, end)` into a record. The text is decoded straight from the
 * batch's bytes; a view of the bytes is made only for text that is not valid UTF-8.
 */
function messageRecord(parser: Parser, data: Buffer, start: number, end: number, context: LineContext, observed: ReturnType<typeof millisToNanos>, extra: IKeyValue[], counts: BatchCounts): ILogRecord {
  const lossy = data.toString('utf8', start, end);
  // A decoded text without U+FFFD came from valid UTF-8; one with it may still be valid.
  const bytes = lossy.includes('\ufffd') ? data.subarray(start, end) : undefined;
  const valid = bytes === undefined || isUtf8(bytes);
  const message = parseSyslog(lossy, parser.options);
  if (message.error !== undefined) counts.failed++;
  // The whole text is kept when the body alone would lose bytes: invalid UTF-8, or fields cut to their limits.
  let attributes = extra;
  if (!valid) attributes = [...extra, keyValue('log.record.original', decodeUtf8Escaping(bytes as Buffer, backslashEscape))];
  else if (message.fieldsCut) attributes = [...extra, keyValue('log.record.original', lossy)];
  const record = syslogRecord(message, observed, attributes, parser.cache);
  if (parser.accessLog && message.error === undefined) {
    const percentText = () => (valid ? undefined : parseSyslog(decodeUtf8Escaping(bytes as Buffer, percentEscape), parser.options).message);
    addAccessLog(record, parser, message.message, percentText, context.observedMs);
  }
  return record;
}

/** Builds the attributes every record of a batch shares, such as the sender's address; string and integer values are encoded once. */
function contextAttributes(context: LineContext, encoder: OtlpLogsEncoder): IKeyValue[] {
  return Object.entries(context.attributes ?? {}).map(([key, value]) => {
    if (typeof value === 'string' || (Number.isSafeInteger(value) && (value as number) >= 0)) return attributeOf(encoder.encodeAttribute(key, value as string | number));
    return { key, value: anyValue(value) };
  });
}

function perMessageAttributes(shared: IKeyValue[], own: Record<string, string | number | boolean> | undefined): IKeyValue[] {
  if (!own) return shared;
  return [...shared, ...Object.entries(own).map(([key, value]) => keyValue(key, value))];
}

function buildRequest(records: ILogRecord[], failed: number, context: LineContext, encoder: OtlpLogsEncoder): LineParseResult {
  const resource = { attributes: Object.entries(context.resource ?? {}).map(([key, value]) => keyValue(key, value)) };
  return {
    request: { resourceLogs: [{ resource, scopeLogs: [{ scope: { name: 'watchpost/syslog' }, logRecords: records }] }] },
    failed,
    encode: (request) => encoder.encode(request as ExportLogsServiceRequest),
  };
}

/**
 * Returns the end of a message without its line terminators and NUL bytes: UDP senders and
 * rsyslog's octet-counted forwarding end messages with LF, and some devices pad with NUL.
 */
function endWithoutTrailer(data: Buffer, start: number, end: number): number {
  let last = end;
  while (last > start && (data[last - 1] === 0x0a || data[last - 1] === 0x0d || data[last - 1] === 0x00)) last--;
  return last;
}

/** Parses a batch of framed messages. */
export function frameParser(options: SyslogParserOptions): FrameParser {
  const parser = createParser(options);
  return (frames: Frames, context: LineContext) => {
    parser.options.nowMs = context.observedMs;
    const observed = millisToNanos(context.observedMs);
    const shared = contextAttributes(context, parser.encoder);
    const data = Buffer.from(frames.bytes.buffer, frames.bytes.byteOffset, frames.bytes.byteLength);
    const records: ILogRecord[] = [];
    const counts: BatchCounts = { failed: 0 };
    let start = 0;
    for (let i = 0; i < frames.ends.length; i++) {
      const end = frames.ends[i];
      const attributes = perMessageAttributes(shared, frames.attributes?.[i]);
      records.push(messageRecord(parser, data, start, endWithoutTrailer(data, start, end), context, observed, attributes, counts));
      start = end;
    }
    return buildRequest(records, counts.failed, context, parser.encoder);
  };
}

/** Parses text lines, one message each, for `watchpost parse` and `watchpost replay`. */
export function lineParser(options: SyslogParserOptions): LineParser {
  const parse = frameParser(options);
  return (lines: string[], context: LineContext) => {
    const buffers = lines.map((line) => Buffer.from(line, 'utf8'));
    const ends = new Uint32Array(buffers.length);
    let total = 0;
    buffers.forEach((buffer, i) => {
      total += buffer.length;
      ends[i] = total;
    });
    return parse({ bytes: Buffer.concat(buffers, total), ends }, context);
  };
}

/** Parser options of each CLI format name. */
export const FORMAT_PROTOCOLS = { syslog: 'auto', rfc5424: 'rfc5424', rfc3164: 'rfc3164' } as const;

function withDefaults(format: keyof typeof FORMAT_PROTOCOLS, options: unknown): SyslogParserOptions {
  return { protocol: FORMAT_PROTOCOLS[format], location: 'UTC', allow_skip_pri_header: false, ...(options as Partial<SyslogParserOptions> | undefined) };
}

export const parsers: WorkerModule['parsers'] = {
  syslog: (options) => lineParser(withDefaults('syslog', options)),
  rfc5424: (options) => lineParser(withDefaults('rfc5424', options)),
  rfc3164: (options) => lineParser(withDefaults('rfc3164', options)),
};

export const frameParsers: WorkerModule['frameParsers'] = {
  syslog: (options) => frameParser(withDefaults('syslog', options)),
};
