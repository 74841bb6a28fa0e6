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

/**
 * A protobuf reader over a byte range; it only walks fields, so it does not know any schema. It
 * allocates nothing per field, because it runs several times per log record.
 */
class FieldReader {
  bytes: Uint8Array = new Uint8Array(0);
  position = 0;
  end = 0;
  /** The range of the last length-delimited value read. */
  valueStart = 0;
  valueEnd = 0;

  reset(bytes: Uint8Array, start: number, end: number): this {
    this.bytes = bytes;
    this.position = start;
    this.end = end;
    return this;
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

  /** Reads the next field key: field number × 8 + wire type. */
  key(): number {
    return this.varint();
  }

  /** Reads a length-delimited value into valueStart and valueEnd. */
  delimited(): void {
    const length = this.varint();
    const start = this.position;
    if (start + length > this.end) throw new MalformedProtobuf('length beyond the end of the message');
    this.position = start + length;
    this.valueStart = start;
    this.valueEnd = start + length;
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

/** Field keys (field number × 8 + wire type 2) of the length-delimited fields read here. */
const KEY_FIELD_1 = (1 << 3) | 2;
const KEY_FIELD_2 = (2 << 3) | 2;
const KEY_BODY = (5 << 3) | 2;

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
      let escaped = BACKSLASH;
      if (byte === LF) escaped = 0x6e;
      else if (byte === CR) escaped = 0x72;
      this.buffer[this.length++] = escaped;
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

/** Decodes an AnyValue by wrapping it, as a body, in the smallest logs request around it. */
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
function writeRecord(writer: LineWriter, reader: FieldReader, bytes: Uint8Array, start: number, end: number): void {
  reader.reset(bytes, start, end);
  let bodyStart = -1;
  let bodyEnd = -1;
  while (!reader.done) {
    const key = reader.key();
    if (key === KEY_BODY) {
      reader.delimited();
      bodyStart = reader.valueStart;
      bodyEnd = reader.valueEnd;
    } else {
      reader.skip(key & 7);
    }
  }
  if (bodyStart < 0) {
    writer.line(bytes, 0, 0);
    return;
  }
  reader.reset(bytes, bodyStart, bodyEnd);
  let textStart = -1;
  let textEnd = -1;
  let other = false;
  while (!reader.done) {
    const key = reader.key();
    if (key === KEY_FIELD_1) {
      reader.delimited();
      textStart = reader.valueStart;
      textEnd = reader.valueEnd;
    } else {
      other = true;
      reader.skip(key & 7);
    }
  }
  if (other) {
    const json = nonStringBody(bytes, bodyStart, bodyEnd);
    writer.line(json, 0, json.length);
  } else if (textStart >= 0) {
    writer.line(bytes, textStart, textEnd);
  } else {
    writer.line(bytes, 0, 0);
  }
}

/** Returns the ranges of the length-delimited fields with this key in a message. */
function messages(reader: FieldReader, bytes: Uint8Array, start: number, end: number, fieldKey: number): number[] {
  const ranges: number[] = [];
  reader.reset(bytes, start, end);
  while (!reader.done) {
    const key = reader.key();
    if (key === fieldKey) {
      reader.delimited();
      ranges.push(reader.valueStart, reader.valueEnd);
    } else {
      reader.skip(key & 7);
    }
  }
  return ranges;
}

/**
 * Converts a protobuf ExportLogsServiceRequest to text: one line per log record with its body.
 * Backslash, LF and CR in a body are written as `\\`, `\n` and `\r`, so each record stays one
 * line. A body that is not a string is written as JSON, and a record without body as an empty
 * line. Throws on malformed protobuf.
 */
export function logsToText(bytes: Uint8Array): Uint8Array {
  const writer = new LineWriter();
  const reader = new FieldReader();
  try {
    const resources = messages(reader, bytes, 0, bytes.length, KEY_FIELD_1);
    for (let r = 0; r < resources.length; r += 2) {
      const scopes = messages(reader, bytes, resources[r], resources[r + 1], KEY_FIELD_2);
      for (let s = 0; s < scopes.length; s += 2) {
        const records = messages(reader, bytes, scopes[s], scopes[s + 1], KEY_FIELD_2);
        for (let i = 0; i < records.length; i += 2) writeRecord(writer, reader, bytes, records[i], records[i + 1]);
      }
    }
  } catch (error) {
    if (error instanceof MalformedProtobuf) throw new Error(`invalid OTLP logs request: ${error.message}`);
    throw error;
  }
  return writer.result();
}
