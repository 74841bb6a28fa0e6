import { decodeRequest, type ExportLogsServiceRequest, type IAnyValue } from '../../core/otlp/codec.js';
import { anyValueToJs, type AttributeValue } from '../../core/otlp/attributes.js';

/*
 * The `text` format of the file exporter: one line per log record with its body. The lines are
 * cut straight out of the protobuf bytes, without decoding the request into objects, because this
 * runs once per record at full ingest rate. Field numbers from opentelemetry/proto:
 *   ExportLogsServiceRequest.resource_logs = 1, ResourceLogs.scope_logs = 2,
 *   ScopeLogs.log_records = 2, LogRecord.body = 5, AnyValue.string_value = 1.
 */

const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;

/** Thrown for bytes that are not a well-formed protobuf message. */
class MalformedProtobuf extends Error {}

/** A protobuf reader over a byte range; it only walks fields, so it does not know any schema. */
class FieldReader {
  position: number;

  constructor(readonly bytes: Uint8Array, start: number, readonly end: number) {
    this.position = start;
  }

  get done(): boolean {
    return this.position >= this.end;
  }

  varint(): number {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (this.position >= this.end || shift > 63) throw new MalformedProtobuf('truncated varint');
      const byte = this.bytes[this.position++];
      // Beyond 2^53 the value is wrong but never used: only lengths and field keys are read here.
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
      shift += 7;
    }
  }

  /** Reads the next field key; returns the field number and wire type. */
  key(): { field: number; wireType: number } {
    const key = this.varint();
    return { field: Math.floor(key / 8), wireType: key % 8 };
  }

  /** Reads a length-delimited value and returns its byte range. */
  delimited(): { start: number; end: number } {
    const length = this.varint();
    const start = this.position;
    if (start + length > this.end) throw new MalformedProtobuf('length beyond the end of the message');
    this.position = start + length;
    return { start, end: start + length };
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.position += 8;
    else if (wireType === 2) this.delimited();
    else if (wireType === 5) this.position += 4;
    else throw new MalformedProtobuf(`unsupported wire type ${wireType}`);
    if (this.position > this.end) throw new MalformedProtobuf('field beyond the end of the message');
  }
}

/** Collects output lines in one growing buffer. */
class LineWriter {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private length = 0;

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  /** Appends UTF-8 bytes as one line: backslash, LF and CR are written as `\\`, `\n` and `\r`. */
  line(bytes: Uint8Array, start: number, end: number): void {
    this.reserve((end - start) * 2 + 1);
    let copied = start;
    for (let i = start; i < end; i++) {
      const byte = bytes[i];
      if (byte !== LF && byte !== CR && byte !== BACKSLASH) continue;
      this.buffer.set(bytes.subarray(copied, i), this.length);
      this.length += i - copied;
      this.buffer[this.length++] = BACKSLASH;
      this.buffer[this.length++] = byte === LF ? 0x6e : byte === CR ? 0x72 : BACKSLASH;
      copied = i + 1;
    }
    this.buffer.set(bytes.subarray(copied, end), this.length);
    this.length += end - copied;
    this.buffer[this.length++] = LF;
  }

  result(): Uint8Array {
    return Uint8Array.prototype.slice.call(this.buffer, 0, this.length);
  }
}

/** Replaces byte values by their base64 text, which is how OTLP/JSON writes bytes. */
function withBase64(value: AttributeValue): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (Array.isArray(value)) return value.map(withBase64);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withBase64(item)]));
  return value;
}

/** Writes a body that is not a string (a map, a list, a number) as JSON; bytes become base64. */
function nonStringBody(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return Buffer.from(JSON.stringify(withBase64(anyValueToJs(decodeAnyValue(bytes.subarray(start, end))))));
}

/** Decodes an AnyValue by wrapping it in the smallest logs request that holds it as a body. */
function decodeAnyValue(bytes: Uint8Array): IAnyValue {
  const record = Buffer.concat([Buffer.from([0x2a]), varintBytes(bytes.length), bytes]);
  const scopeLogs = Buffer.concat([Buffer.from([0x12]), varintBytes(record.length), record]);
  const resourceLogs = Buffer.concat([Buffer.from([0x12]), varintBytes(scopeLogs.length), scopeLogs]);
  const request = Buffer.concat([Buffer.from([0x0a]), varintBytes(resourceLogs.length), resourceLogs]);
  const decoded = decodeRequest('logs', request) as ExportLogsServiceRequest;
  return decoded.resourceLogs?.[0]?.scopeLogs?.[0]?.logRecords?.[0]?.body ?? {};
}

function varintBytes(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** Writes one line for a log record: its string body, or the JSON of another body, or nothing. */
function writeRecord(writer: LineWriter, bytes: Uint8Array, start: number, end: number): void {
  const record = new FieldReader(bytes, start, end);
  let body: { start: number; end: number } | undefined;
  while (!record.done) {
    const { field, wireType } = record.key();
    if (field === 5 && wireType === 2) body = record.delimited();
    else record.skip(wireType);
  }
  if (!body) {
    writer.line(bytes, 0, 0);
    return;
  }
  const value = new FieldReader(bytes, body.start, body.end);
  let text: { start: number; end: number } | undefined;
  let other = false;
  while (!value.done) {
    const { field, wireType } = value.key();
    if (field === 1 && wireType === 2) {
      text = value.delimited();
    } else {
      other = true;
      value.skip(wireType);
    }
  }
  if (text && !other) {
    writer.line(bytes, text.start, text.end);
  } else if (other) {
    const json = nonStringBody(bytes, body.start, body.end);
    writer.line(json, 0, json.length);
  } else {
    writer.line(bytes, 0, 0);
  }
}

/** Calls `visit` with the byte range of each field `field` (length-delimited) of a message. */
function eachMessage(bytes: Uint8Array, start: number, end: number, field: number, visit: (start: number, end: number) => void): void {
  const reader = new FieldReader(bytes, start, end);
  while (!reader.done) {
    const key = reader.key();
    if (key.field === field && key.wireType === 2) {
      const range = reader.delimited();
      visit(range.start, range.end);
    } else {
      reader.skip(key.wireType);
    }
  }
}

/**
 * Converts a protobuf ExportLogsServiceRequest to text: one line per log record with its body.
 * Backslash, LF and CR in a body are written as `\\`, `\n` and `\r`, so each record stays one
 * line; a body that is not a string is written as JSON, and a record without body as an empty
 * line. Throws on malformed protobuf.
 */
export function logsToText(bytes: Uint8Array): Uint8Array {
  const writer = new LineWriter();
  try {
    eachMessage(bytes, 0, bytes.length, 1, (resourceStart, resourceEnd) => {
      eachMessage(bytes, resourceStart, resourceEnd, 2, (scopeStart, scopeEnd) => {
        eachMessage(bytes, scopeStart, scopeEnd, 2, (recordStart, recordEnd) => writeRecord(writer, bytes, recordStart, recordEnd));
      });
    });
  } catch (error) {
    if (error instanceof MalformedProtobuf) throw new Error(`invalid OTLP logs request: ${error.message}`);
    throw error;
  }
  return writer.result();
}
