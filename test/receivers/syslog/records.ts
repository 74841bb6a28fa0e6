import Long from 'long';
import type { ExportLogsServiceRequest, ILogRecord } from '../../../core/otlp/codec.js';
import { anyValueToJs, type AttributeValue } from '../../../core/otlp/attributes.js';
import { FrameDecoder, type Framing } from '../../../receivers/syslog/framing.js';
import { frameParser, type SyslogParserOptions } from '../../../receivers/syslog/worker.js';

/** A parsed record in plain values, as tests compare them. */
export interface PlainRecord {
  body: string;
  attributes: Record<string, AttributeValue>;
  /** Event time in nanoseconds since the epoch. */
  timeNanos: bigint;
  observedNanos: bigint;
  severityNumber: number;
  severityText: string;
}

export const DEFAULT_PARSER: SyslogParserOptions = { protocol: 'auto', location: 'UTC', allow_skip_pri_header: false };

function toBigInt(value: Long | number | null | undefined): bigint {
  if (value === null || value === undefined) return 0n;
  return typeof value === 'number' ? BigInt(value) : BigInt(Long.fromValue(value).toUnsigned().toString());
}

export function plainRecord(record: ILogRecord): PlainRecord {
  const attributes: Record<string, AttributeValue> = {};
  for (const attribute of record.attributes ?? []) attributes[attribute.key ?? ''] = anyValueToJs(attribute.value);
  return {
    body: String(anyValueToJs(record.body)),
    attributes,
    timeNanos: toBigInt(record.timeUnixNano as Long),
    observedNanos: toBigInt(record.observedTimeUnixNano as Long),
    severityNumber: Number(record.severityNumber ?? 0),
    severityText: record.severityText ?? '',
  };
}

/** Parses messages (one frame each) with the worker's frame parser. */
export function parseFrames(messages: Buffer[], options: Partial<SyslogParserOptions> = {}, nowMs = Date.UTC(2024, 5, 15, 12)): PlainRecord[] {
  const parse = frameParser({ ...DEFAULT_PARSER, ...options });
  const ends = new Uint32Array(messages.length);
  let total = 0;
  messages.forEach((message, i) => {
    total += message.length;
    ends[i] = total;
  });
  const result = parse({ bytes: Buffer.concat(messages), ends }, { observedMs: nowMs });
  const request = result.request as ExportLogsServiceRequest;
  return (request.resourceLogs?.[0]?.scopeLogs?.[0]?.logRecords ?? []).map(plainRecord);
}

export function parseOne(message: Buffer | string, options: Partial<SyslogParserOptions> = {}, nowMs?: number): PlainRecord {
  return parseFrames([typeof message === 'string' ? Buffer.from(message) : message], options, nowMs)[0];
}

export interface FramedMessage {
  bytes: Buffer;
  originalSize?: number;
}

/** Splits a TCP byte stream into messages, feeding it in pieces of `chunkSize` bytes. */
export function frameStream(stream: Buffer, options: { framing?: Framing; trailer?: 'LF' | 'NUL'; maxMessageSize?: number; chunkSize?: number } = {}): { frames: FramedMessage[]; problems: string[] } {
  const frames: FramedMessage[] = [];
  const problems: string[] = [];
  const decoder = new FrameDecoder(
    { framing: options.framing ?? 'auto', trailer: options.trailer ?? 'LF', maxMessageSize: options.maxMessageSize ?? 64 * 1024 },
    { frame: (bytes, originalSize) => frames.push({ bytes: Buffer.from(bytes), originalSize }), problem: (reason) => problems.push(reason) },
  );
  const chunkSize = options.chunkSize ?? stream.length;
  for (let i = 0; i < stream.length; i += Math.max(1, chunkSize)) decoder.push(stream.subarray(i, i + Math.max(1, chunkSize)));
  decoder.end();
  return { frames, problems };
}

/** The event time of a record as an ISO string with nanoseconds, `2024-01-02T03:04:05.123456789Z`. */
export function isoNanos(nanos: bigint): string {
  const seconds = nanos / 1_000_000_000n;
  const fraction = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`;
}
