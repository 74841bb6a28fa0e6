import protobuf from 'protobufjs';
import Long from 'long';
import { otlpDescriptor } from './generated/descriptor.js';
import { EXPORT_TYPE_NAMES, type ExportRequest } from './codec.js';
import { idLengthProblem, SPAN_ID_BYTES, TRACE_ID_BYTES, type Rejections } from './validate.js';
import type { TelemetrySignal } from '../data/signal.js';

/**
 * OTLP/JSON, read and written by reflection over the OTLP message types.
 *
 * OTLP/JSON follows the proto3 JSON mapping with these differences from the OTLP specification:
 * trace and span ids are hex strings, not base64, and keys are lowerCamelCase. On top of the
 * specification this reader accepts, as the OpenTelemetry Collector does, the original
 * snake_case key names and enum values given by name (`"SEVERITY_NUMBER_WARN"`).
 * Unknown keys are ignored. Integers keep full 64-bit precision, also when sent as bare JSON
 * numbers above 2^53, and a value outside its field's range is an error naming the field.
 * An error inside one span, log record or data point can reject only that item (see
 * `parseOtlpJson`); an error anywhere else rejects the whole request.
 */

const root = protobuf.Root.fromJSON(otlpDescriptor as protobuf.INamespace);

/** Bytes fields that OTLP/JSON writes as hex rather than base64. */
const HEX_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);

const INT_RANGES: Record<string, { min: bigint; max: bigint }> = {
  int32: { min: -(2n ** 31n), max: 2n ** 31n - 1n },
  sint32: { min: -(2n ** 31n), max: 2n ** 31n - 1n },
  sfixed32: { min: -(2n ** 31n), max: 2n ** 31n - 1n },
  uint32: { min: 0n, max: 2n ** 32n - 1n },
  fixed32: { min: 0n, max: 2n ** 32n - 1n },
  int64: { min: -(2n ** 63n), max: 2n ** 63n - 1n },
  sint64: { min: -(2n ** 63n), max: 2n ** 63n - 1n },
  sfixed64: { min: -(2n ** 63n), max: 2n ** 63n - 1n },
  uint64: { min: 0n, max: 2n ** 64n - 1n },
  fixed64: { min: 0n, max: 2n ** 64n - 1n },
};
const LONG_TYPES = new Set(['int64', 'sint64', 'sfixed64', 'uint64', 'fixed64']);
const UNSIGNED_LONG_TYPES = new Set(['uint64', 'fixed64']);
const DECIMAL_INTEGER = /^-?\d+$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** A problem in an OTLP/JSON body, with the path of the offending field. */
export class OtlpJsonError extends Error {
  constructor(readonly path: string, message: string) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'OtlpJsonError';
  }
}

function requestType(signal: TelemetrySignal): protobuf.Type {
  return root.lookupType(EXPORT_TYPE_NAMES[signal].request);
}

/** The message types whose instances a request can reject one by one: its items. */
const ITEM_TYPES = new Set([
  'opentelemetry.proto.trace.v1.Span',
  'opentelemetry.proto.logs.v1.LogRecord',
  'opentelemetry.proto.metrics.v1.NumberDataPoint',
  'opentelemetry.proto.metrics.v1.HistogramDataPoint',
  'opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint',
  'opentelemetry.proto.metrics.v1.SummaryDataPoint',
]);

/**
 * Parses an OTLP/JSON export request into the message shape the protobuf codec encodes.
 * Without `rejections`, any invalid value throws an OtlpJsonError. With it, an invalid value
 * inside a span, log record or data point leaves that item out and is recorded there instead.
 * Errors outside items still throw.
 */
export function parseOtlpJson(signal: TelemetrySignal, text: string, rejections?: Rejections): ExportRequest {
  let json: unknown;
  try {
    json = JSON.parse(quoteLargeIntegers(text));
  } catch (error) {
    throw new OtlpJsonError('', `invalid JSON: ${(error as Error).message}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new OtlpJsonError('', 'the body must be a JSON object');
  }
  return readMessage(requestType(signal), json as Record<string, unknown>, '', rejections) as ExportRequest;
}

function readMessage(type: protobuf.Type, json: Record<string, unknown>, path: string, rejections: Rejections | undefined): Record<string, unknown> {
  const message: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    const field = type.fields[key] ?? type.fields[snakeToCamel(key)];
    if (!field || value === null) continue;
    const fieldPath = path ? `${path}.${field.name}` : field.name;
    if (field.repeated) {
      if (!Array.isArray(value)) throw new OtlpJsonError(fieldPath, 'must be an array');
      message[field.name] = readList(field, value, fieldPath, rejections);
    } else {
      message[field.name] = readValue(field, value, fieldPath, rejections);
    }
  }
  return message;
}

function readList(field: protobuf.Field, values: unknown[], path: string, rejections: Rejections | undefined): unknown[] {
  field.resolve();
  const itemsRejectable = rejections !== undefined && field.resolvedType instanceof protobuf.Type && ITEM_TYPES.has(fullName(field.resolvedType));
  if (!itemsRejectable) return values.map((item, index) => readValue(field, item, `${path}[${index}]`, rejections));
  const items: unknown[] = [];
  values.forEach((item, index) => {
    try {
      items.push(readValue(field, item, `${path}[${index}]`, rejections));
    } catch (error) {
      if (!(error instanceof OtlpJsonError)) throw error;
      rejections.add(error.message);
    }
  });
  return items;
}

/** Returns the type's name without protobufjs's leading dot. */
function fullName(type: protobuf.Type): string {
  return type.fullName.replace(/^\./, '');
}

function readValue(field: protobuf.Field, value: unknown, path: string, rejections: Rejections | undefined): unknown {
  field.resolve();
  if (field.resolvedType instanceof protobuf.Type) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new OtlpJsonError(path, 'must be an object');
    return readMessage(field.resolvedType, value as Record<string, unknown>, path, rejections);
  }
  if (field.resolvedType instanceof protobuf.Enum) return readEnum(field.resolvedType, value, path);
  switch (field.type) {
    case 'string':
      if (typeof value !== 'string') throw new OtlpJsonError(path, 'must be a string');
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw new OtlpJsonError(path, 'must be true or false');
      return value;
    case 'double':
    case 'float':
      return readDouble(value, path);
    case 'bytes':
      return HEX_FIELDS.has(field.name) ? readHexId(field.name, value, path) : readBase64(value, path);
    default:
      return readInteger(field.type, value, path);
  }
}

function readEnum(enumType: protobuf.Enum, value: unknown, path: string): number {
  if (typeof value === 'string' && Object.hasOwn(enumType.values, value)) return enumType.values[value];
  if (typeof value === 'string' && DECIMAL_INTEGER.test(value)) value = Number(value);
  if (typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31) return value;
  throw new OtlpJsonError(path, `invalid ${enumType.name} value ${JSON.stringify(value)}; expected an integer or an enum name`);
}

function readDouble(value: unknown, path: string): number {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  throw new OtlpJsonError(path, `must be a number, got ${JSON.stringify(value)}`);
}

function readInteger(type: string, value: unknown, path: string): number | Long {
  const range = INT_RANGES[type];
  if (!range) throw new OtlpJsonError(path, `unsupported field type ${type}`);
  let big: bigint;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new OtlpJsonError(path, `must be an integer, got ${value}`);
    big = BigInt(value);
  } else if (typeof value === 'string' && DECIMAL_INTEGER.test(value)) {
    big = BigInt(value);
  } else {
    throw new OtlpJsonError(path, `must be a ${type} as a decimal string or a JSON number, got ${JSON.stringify(value)}`);
  }
  if (big < range.min || big > range.max) {
    throw new OtlpJsonError(path, `value ${big} is out of range for ${type} (${range.min} to ${range.max})`);
  }
  if (!LONG_TYPES.has(type)) return Number(big);
  return Long.fromString(big.toString(), UNSIGNED_LONG_TYPES.has(type));
}

const ID_LENGTHS: Record<string, number> = { traceId: TRACE_ID_BYTES, spanId: SPAN_ID_BYTES, parentSpanId: SPAN_ID_BYTES };

function readHexId(name: string, value: unknown, path: string): Uint8Array {
  if (typeof value !== 'string' || !HEX.test(value)) {
    throw new OtlpJsonError(path, `must be a hex string, got ${JSON.stringify(value)}`);
  }
  const bytes = Buffer.from(value, 'hex');
  const problem = idLengthProblem(bytes, ID_LENGTHS[name]);
  if (problem) throw new OtlpJsonError(path, problem);
  return bytes;
}

function readBase64(value: unknown, path: string): Uint8Array {
  if (typeof value !== 'string' || !BASE64.test(value)) throw new OtlpJsonError(path, 'must be a base64 string');
  return Buffer.from(value, value.includes('-') || value.includes('_') ? 'base64url' : 'base64');
}

function snakeToCamel(key: string): string {
  return key.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * Puts quotes around integer literals of 16 or more digits outside strings, so JSON.parse keeps
 * them exact; the integer readers accept decimal strings. Other text is copied unchanged.
 */
export function quoteLargeIntegers(text: string): string {
  if (!/\d{16}/.test(text)) return text;
  let output = '';
  let copiedUpTo = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c) i++;
      else if (char === 0x22) inString = false;
      continue;
    }
    if (char === 0x22) {
      inString = true;
      continue;
    }
    const isDigit = char >= 0x30 && char <= 0x39;
    if (!isDigit && char !== 0x2d) continue;
    let end = i + 1;
    while (end < text.length && /[0-9.eE+-]/.test(text[end])) end++;
    const token = text.slice(i, end);
    if (/^-?\d{16,}$/.test(token)) {
      output += text.slice(copiedUpTo, i) + '"' + token + '"';
      copiedUpTo = end;
    }
    i = end - 1;
  }
  return output + text.slice(copiedUpTo);
}

/** Converts an export request (decoded or plain) to OTLP/JSON data: hex ids, int64 as strings, enums as integers. */
export function toOtlpJson(signal: TelemetrySignal, request: ExportRequest): Record<string, unknown> {
  return writeMessage(requestType(signal), request as Record<string, unknown>);
}

/**
 * Returns the OTLP/JSON export response: `{}` on full success, else a `partialSuccess` with the
 * rejected count (an int64, so a decimal string) and the error message.
 */
export function exportResponseToJson(signal: TelemetrySignal, rejected: number, errorMessage = ''): Record<string, unknown> {
  if (rejected === 0 && errorMessage === '') return {};
  const type = root.lookupType(EXPORT_TYPE_NAMES[signal].response);
  const partialType = (type.fields.partialSuccess.resolve().resolvedType as protobuf.Type);
  const countField = partialType.fieldsArray.find((field) => field.name.startsWith('rejected')) as protobuf.Field;
  return writeMessage(type, { partialSuccess: { [countField.name]: rejected, errorMessage } });
}

function writeMessage(type: protobuf.Type, message: Record<string, unknown>): Record<string, unknown> {
  const json: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    const value = message[field.name];
    if (value === undefined || value === null) continue;
    if (field.repeated) {
      if (!Array.isArray(value) || value.length === 0) continue;
      json[field.name] = value.map((item) => writeValue(field, item));
      continue;
    }
    // Outside a oneof, proto3 JSON omits default values; a oneof member is written even when it is the default.
    if (!field.partOf && isDefault(value)) continue;
    if (field.partOf && !Object.hasOwn(message, field.name)) continue;
    json[field.name] = writeValue(field, value);
  }
  return json;
}

function writeValue(field: protobuf.Field, value: unknown): unknown {
  field.resolve();
  if (field.resolvedType instanceof protobuf.Type) return writeMessage(field.resolvedType, value as Record<string, unknown>);
  if (field.resolvedType instanceof protobuf.Enum) return Number(value);
  switch (field.type) {
    case 'bytes': {
      const bytes = Buffer.from(value as Uint8Array);
      return HEX_FIELDS.has(field.name) ? bytes.toString('hex') : bytes.toString('base64');
    }
    case 'double':
    case 'float': {
      const number = Number(value);
      if (Number.isNaN(number)) return 'NaN';
      if (number === Infinity) return 'Infinity';
      if (number === -Infinity) return '-Infinity';
      return number;
    }
    case 'string':
    case 'bool':
      return value;
    default:
      return LONG_TYPES.has(field.type) ? longToString(value, UNSIGNED_LONG_TYPES.has(field.type)) : Number(value);
  }
}

/** Formats a protobufjs 64-bit value (Long, number, or string) as a decimal string. */
export function longToString(value: unknown, unsigned = false): string {
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string') return String(value);
  if (value && typeof value === 'object' && 'low' in value && 'high' in value) {
    const long = value as Long;
    return Long.fromBits(long.low, long.high, long.unsigned ?? unsigned).toString();
  }
  return '0';
}

function isDefault(value: unknown): boolean {
  if (value === 0 || value === '' || value === false) return true;
  if (value instanceof Uint8Array) return value.length === 0;
  if (Long.isLong(value)) return (value as Long).isZero();
  return false;
}
