import type Long from 'long';
import type { ExportLogsServiceRequest, IAnyValue, IKeyValue, ILogRecord } from '../../core/otlp/codec.js';

/*
 * A protobuf encoder for OTLP logs export requests, for receivers that build many small log
 * records in the worker pool. Its bytes decode to the same request as those of the generic
 * protobufjs encoder. They differ only where this encoder leaves out scalar fields at their default
 * value.
 * One pass computes every message's length and a second writes into one buffer, which costs a
 * fraction of the generic encoder's time.
 *
 * Field numbers, from opentelemetry/proto/logs/v1/logs.proto and common/v1/common.proto:
 *   ExportLogsServiceRequest: resource_logs = 1
 *   ResourceLogs: resource = 1, scope_logs = 2, schema_url = 3
 *   Resource: attributes = 1, dropped_attributes_count = 2
 *   ScopeLogs: scope = 1, log_records = 2, schema_url = 3
 *   InstrumentationScope: name = 1, version = 2, attributes = 3, dropped_attributes_count = 4
 *   LogRecord: time_unix_nano = 1 (fixed64), severity_number = 2, severity_text = 3, body = 5,
 *     attributes = 6, dropped_attributes_count = 7, flags = 8 (fixed32), trace_id = 9,
 *     span_id = 10, observed_time_unix_nano = 11 (fixed64), event_name = 12
 *   KeyValue: key = 1, value = 2
 *   AnyValue: string_value = 1, bool_value = 2, int_value = 3, double_value = 4, array_value = 5,
 *     kvlist_value = 6, bytes_value = 7
 *   ArrayValue, KeyValueList: values = 1
 */

type Int64 = number | Long | string | null | undefined;

/** Wire types of a protobuf field key. */
const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

function key(field: number, wireType: number): number {
  return (field << 3) | wireType;
}

function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** Bytes of a string in UTF-8, as Buffer.write encodes it (a lone surrogate becomes U+FFFD, 3 bytes). */
function utf8Length(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) {
      length += 1;
    } else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      length += 2;
      i++;
    } else {
      length += 2;
    }
  }
  return length;
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** Returns the low and high 32 bits of a 64-bit integer given as a number, a Long or a decimal string. */
function int64Bits(value: Int64): { low: number; high: number } {
  if (value === null || value === undefined) return { low: 0, high: 0 };
  if (typeof value === 'object') return { low: value.low >>> 0, high: value.high >>> 0 };
  const big = BigInt.asUintN(64, BigInt(typeof value === 'number' ? Math.trunc(value) : value));
  return { low: Number(big & 0xffffffffn), high: Number(big >> 32n) };
}

function isZero64(value: Int64): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'object') return value.low === 0 && value.high === 0;
  return Number(value) === 0;
}

/** Size of a signed int64 as a varint: negative values take 10 bytes. */
function int64VarintSize(value: Int64): number {
  const { low, high } = int64Bits(value);
  if (high === 0) return varintSize(low);
  let size = 5;
  let rest = high >>> 3;
  while (rest > 0) {
    size++;
    rest >>>= 7;
  }
  return size;
}

/**
 * The encoded fields (key and value, without the tag and length of the KeyValue itself) of one
 * attribute with a string or integer value, made once for a value that many records carry.
 */
export interface EncodedAttribute {
  readonly key: string;
  readonly value: string | number;
  readonly bytes: Uint8Array;
}

/** The property by which a KeyValue points to the encoding of the value it was created with. */
export const ENCODED = Symbol('watchpost.otlp.encoded');

interface TaggedKeyValue extends IKeyValue {
  [ENCODED]?: EncodedAttribute;
}

/**
 * Returns a new KeyValue with the key and value of an encoding, pointing to it. Each record gets
 * its own objects, so a stage that changes one record's attribute changes no other.
 */
export function attributeOf(encoded: EncodedAttribute): IKeyValue {
  const value: IAnyValue = typeof encoded.value === 'string' ? { stringValue: encoded.value } : { intValue: encoded.value as never };
  return { key: encoded.key, value, [ENCODED]: encoded } as TaggedKeyValue;
}

/** Returns the encoded fields of a KeyValue, or undefined when it has none or was changed since. */
function encodedOf(attribute: IKeyValue): Uint8Array | undefined {
  const encoded = (attribute as TaggedKeyValue)[ENCODED];
  if (encoded === undefined || attribute.key !== encoded.key || !attribute.value) return undefined;
  const current = typeof encoded.value === 'string' ? attribute.value.stringValue : attribute.value.intValue;
  return current === encoded.value ? encoded.bytes : undefined;
}

type ResourceLogs = NonNullable<ExportLogsServiceRequest['resourceLogs']>[number];
type ScopeLogs = NonNullable<ResourceLogs['scopeLogs']>[number];

export class OtlpLogsEncoder {
  private buffer = Buffer.allocUnsafe(64 * 1024);
  private position = 0;
  /**
   * Lengths the size pass computed, in the order both passes visit them: each embedded message's
   * length, and each string's UTF-8 length.
   */
  private lengths = new Int32Array(4096);
  private lengthCount = 0;
  private nextLength = 0;

  /** Encodes an export request; the result is a fresh copy, so the encoder's buffer is reused. */
  encode(request: ExportLogsServiceRequest): Uint8Array {
    this.lengthCount = 0;
    let total = 0;
    for (const resourceLogs of request.resourceLogs ?? []) total += this.embeddedSize(this.resourceLogsSize(resourceLogs));
    if (this.buffer.length < total) this.buffer = Buffer.allocUnsafe(Math.max(total, this.buffer.length * 2));
    this.position = 0;
    this.nextLength = 0;
    for (const resourceLogs of request.resourceLogs ?? []) {
      this.startMessage(1);
      this.writeResourceLogs(resourceLogs);
    }
    return Uint8Array.prototype.slice.call(this.buffer, 0, total);
  }

  /** Encodes one attribute with a string or integer value, for `attributeOf`. */
  encodeAttribute(key: string, value: string | number): EncodedAttribute {
    const attribute: IKeyValue = { key, value: typeof value === 'string' ? { stringValue: value } : { intValue: value as never } };
    this.lengthCount = 0;
    const size = this.keyValueBodySize(attribute);
    const bytes = new Uint8Array(size);
    const buffer = this.buffer;
    this.buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.position = 0;
    this.nextLength = 0;
    this.writeKeyValueBody(attribute);
    this.buffer = buffer;
    return Object.freeze({ key, value, bytes });
  }

  // ---------------------------------------------------------------------------------------------
  // Size pass: each message reserves its slot in `lengths` before its children, so the write pass
  // reads the lengths back in the same order.

  private embeddedSize(length: number): number {
    return 1 + varintSize(length) + length;
  }

  /** Appends a length and returns its index. */
  private push(length: number): number {
    if (this.lengthCount === this.lengths.length) {
      const grown = new Int32Array(this.lengths.length * 2);
      grown.set(this.lengths);
      this.lengths = grown;
    }
    this.lengths[this.lengthCount] = length;
    return this.lengthCount++;
  }

  /** Reserves the index of a message's length, which is set once its children are measured. */
  private reserve(): number {
    return this.push(0);
  }

  /** Size of a string field with its key; empty strings are left out, as proto3 does. */
  private stringFieldSize(text: string | null | undefined): number {
    if (!text) return 0;
    const length = utf8Length(text);
    this.push(length);
    return 1 + varintSize(length) + length;
  }

  private resourceLogsSize(resourceLogs: ResourceLogs): number {
    const slot = this.reserve();
    let size = 0;
    const resource = resourceLogs.resource;
    if (resource) {
      const resourceSlot = this.reserve();
      let inner = this.keyValuesSize(resource.attributes);
      if (resource.droppedAttributesCount) inner += 1 + varintSize(resource.droppedAttributesCount);
      this.lengths[resourceSlot] = inner;
      size += this.embeddedSize(inner);
    }
    for (const scopeLogs of resourceLogs.scopeLogs ?? []) size += this.embeddedSize(this.scopeLogsSize(scopeLogs));
    size += this.stringFieldSize(resourceLogs.schemaUrl);
    this.lengths[slot] = size;
    return size;
  }

  private scopeLogsSize(scopeLogs: ScopeLogs): number {
    const slot = this.reserve();
    let size = 0;
    const scope = scopeLogs.scope;
    if (scope) {
      const scopeSlot = this.reserve();
      let inner = this.stringFieldSize(scope.name) + this.stringFieldSize(scope.version) + this.keyValuesSize(scope.attributes);
      if (scope.droppedAttributesCount) inner += 1 + varintSize(scope.droppedAttributesCount);
      this.lengths[scopeSlot] = inner;
      size += this.embeddedSize(inner);
    }
    for (const record of scopeLogs.logRecords ?? []) size += this.embeddedSize(this.logRecordSize(record));
    size += this.stringFieldSize(scopeLogs.schemaUrl);
    this.lengths[slot] = size;
    return size;
  }

  private logRecordSize(record: ILogRecord): number {
    const slot = this.reserve();
    let size = 0;
    if (!isZero64(record.timeUnixNano as Int64)) size += 9;
    if (record.severityNumber) size += 1 + varintSize(record.severityNumber);
    size += this.stringFieldSize(record.severityText);
    if (record.body) size += this.embeddedSize(this.anyValueSize(record.body));
    size += this.keyValuesSize(record.attributes);
    if (record.droppedAttributesCount) size += 1 + varintSize(record.droppedAttributesCount);
    if (record.flags) size += 5;
    if (record.traceId?.length) size += 1 + varintSize(record.traceId.length) + record.traceId.length;
    if (record.spanId?.length) size += 1 + varintSize(record.spanId.length) + record.spanId.length;
    if (!isZero64(record.observedTimeUnixNano as Int64)) size += 9;
    size += this.stringFieldSize((record as { eventName?: string | null }).eventName);
    this.lengths[slot] = size;
    return size;
  }

  private keyValuesSize(attributes: IKeyValue[] | null | undefined): number {
    if (!attributes) return 0;
    let size = 0;
    for (const attribute of attributes) {
      const encoded = encodedOf(attribute);
      if (encoded) {
        size += this.embeddedSize(encoded.length);
        continue;
      }
      const slot = this.reserve();
      const inner = this.keyValueBodySize(attribute);
      this.lengths[slot] = inner;
      size += this.embeddedSize(inner);
    }
    return size;
  }

  private keyValueBodySize(attribute: IKeyValue): number {
    let size = this.stringFieldSize(attribute.key);
    if (attribute.value) size += this.embeddedSize(this.anyValueSize(attribute.value));
    return size;
  }

  private anyValueSize(value: IAnyValue): number {
    const slot = this.reserve();
    let size = 0;
    if (present(value.stringValue)) {
      const length = utf8Length(value.stringValue as string);
      this.push(length);
      size = 1 + varintSize(length) + length;
    } else if (present(value.boolValue)) {
      size = 2;
    } else if (present(value.intValue)) {
      size = 1 + int64VarintSize(value.intValue as Int64);
    } else if (present(value.doubleValue)) {
      size = 9;
    } else if (value.arrayValue) {
      const arraySlot = this.reserve();
      let inner = 0;
      for (const item of value.arrayValue.values ?? []) inner += this.embeddedSize(this.anyValueSize(item));
      this.lengths[arraySlot] = inner;
      size = this.embeddedSize(inner);
    } else if (value.kvlistValue) {
      const listSlot = this.reserve();
      const inner = this.keyValuesSize(value.kvlistValue.values);
      this.lengths[listSlot] = inner;
      size = this.embeddedSize(inner);
    } else if (value.bytesValue) {
      size = 1 + varintSize(value.bytesValue.length) + value.bytesValue.length;
    }
    this.lengths[slot] = size;
    return size;
  }

  // ---------------------------------------------------------------------------------------------
  // Write pass, in the same order as the size pass.

  /** Writes the key and length of an embedded message whose length the size pass computed. */
  private startMessage(field: number): void {
    this.writeVarint(key(field, LENGTH_DELIMITED));
    this.writeVarint(this.lengths[this.nextLength++]);
  }

  private writeVarint(value: number): void {
    let rest = value >>> 0;
    while (rest >= 0x80) {
      this.buffer[this.position++] = (rest & 0x7f) | 0x80;
      rest >>>= 7;
    }
    this.buffer[this.position++] = rest;
  }

  private writeInt64Varint(value: Int64): void {
    let low: number;
    let high: number;
    if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
      low = value % 0x100000000;
      high = Math.floor(value / 0x100000000);
    } else {
      ({ low, high } = int64Bits(value));
    }
    while (high > 0 || low >= 0x80) {
      this.buffer[this.position++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    this.buffer[this.position++] = low;
  }

  private writeFixed64(field: number, value: Int64): void {
    this.writeVarint(key(field, FIXED64));
    if (typeof value === 'object' && value !== null) {
      this.buffer.writeUInt32LE(value.low >>> 0, this.position);
      this.buffer.writeUInt32LE(value.high >>> 0, this.position + 4);
    } else {
      const { low, high } = int64Bits(value);
      this.buffer.writeUInt32LE(low, this.position);
      this.buffer.writeUInt32LE(high, this.position + 4);
    }
    this.position += 8;
  }

  /** Writes a string's bytes after its key and the length the size pass computed. */
  private writeStringValue(field: number, text: string): void {
    this.writeVarint(key(field, LENGTH_DELIMITED));
    const length = this.lengths[this.nextLength++];
    this.writeVarint(length);
    if (length === text.length && length < 64) {
      for (let i = 0; i < length; i++) this.buffer[this.position + i] = text.charCodeAt(i);
    } else {
      this.buffer.write(text, this.position, length, 'utf8');
    }
    this.position += length;
  }

  private writeString(field: number, text: string | null | undefined): void {
    if (text) this.writeStringValue(field, text);
  }

  private writeBytes(field: number, bytes: Uint8Array): void {
    this.writeVarint(key(field, LENGTH_DELIMITED));
    this.writeVarint(bytes.length);
    this.copy(bytes);
  }

  private writeResourceLogs(resourceLogs: ResourceLogs): void {
    const resource = resourceLogs.resource;
    if (resource) {
      this.startMessage(1);
      this.writeKeyValues(1, resource.attributes);
      if (resource.droppedAttributesCount) {
        this.writeVarint(key(2, VARINT));
        this.writeVarint(resource.droppedAttributesCount);
      }
    }
    for (const scopeLogs of resourceLogs.scopeLogs ?? []) {
      this.startMessage(2);
      this.writeScopeLogs(scopeLogs);
    }
    this.writeString(3, resourceLogs.schemaUrl);
  }

  private writeScopeLogs(scopeLogs: ScopeLogs): void {
    const scope = scopeLogs.scope;
    if (scope) {
      this.startMessage(1);
      this.writeString(1, scope.name);
      this.writeString(2, scope.version);
      this.writeKeyValues(3, scope.attributes);
      if (scope.droppedAttributesCount) {
        this.writeVarint(key(4, VARINT));
        this.writeVarint(scope.droppedAttributesCount);
      }
    }
    for (const record of scopeLogs.logRecords ?? []) {
      this.startMessage(2);
      this.writeLogRecord(record);
    }
    this.writeString(3, scopeLogs.schemaUrl);
  }

  private writeLogRecord(record: ILogRecord): void {
    if (!isZero64(record.timeUnixNano as Int64)) this.writeFixed64(1, record.timeUnixNano as Int64);
    if (record.severityNumber) {
      this.writeVarint(key(2, VARINT));
      this.writeVarint(record.severityNumber);
    }
    this.writeString(3, record.severityText);
    if (record.body) {
      this.startMessage(5);
      this.writeAnyValue(record.body);
    }
    this.writeKeyValues(6, record.attributes);
    if (record.droppedAttributesCount) {
      this.writeVarint(key(7, VARINT));
      this.writeVarint(record.droppedAttributesCount);
    }
    if (record.flags) {
      this.writeVarint(key(8, FIXED32));
      this.buffer.writeUInt32LE(record.flags >>> 0, this.position);
      this.position += 4;
    }
    if (record.traceId?.length) this.writeBytes(9, record.traceId);
    if (record.spanId?.length) this.writeBytes(10, record.spanId);
    if (!isZero64(record.observedTimeUnixNano as Int64)) this.writeFixed64(11, record.observedTimeUnixNano as Int64);
    this.writeString(12, (record as { eventName?: string | null }).eventName);
  }

  private writeKeyValues(field: number, attributes: IKeyValue[] | null | undefined): void {
    if (!attributes) return;
    for (const attribute of attributes) {
      const encoded = encodedOf(attribute);
      if (encoded) {
        this.writeVarint(key(field, LENGTH_DELIMITED));
        this.writeVarint(encoded.length);
        this.copy(encoded);
        continue;
      }
      this.startMessage(field);
      this.writeKeyValueBody(attribute);
    }
  }

  private writeKeyValueBody(attribute: IKeyValue): void {
    this.writeString(1, attribute.key);
    if (attribute.value) {
      this.startMessage(2);
      this.writeAnyValue(attribute.value);
    }
  }

  /** Copies bytes at the position; a loop beats the native call for the few bytes of an attribute. */
  private copy(bytes: Uint8Array): void {
    if (bytes.length < 64) {
      for (let i = 0; i < bytes.length; i++) this.buffer[this.position + i] = bytes[i];
    } else {
      this.buffer.set(bytes, this.position);
    }
    this.position += bytes.length;
  }

  private writeAnyValue(value: IAnyValue): void {
    if (present(value.stringValue)) {
      // An empty string is written too, because it is the value the oneof holds.
      this.writeStringValue(1, value.stringValue as string);
    } else if (present(value.boolValue)) {
      this.writeVarint(key(2, VARINT));
      this.buffer[this.position++] = value.boolValue ? 1 : 0;
    } else if (present(value.intValue)) {
      this.writeVarint(key(3, VARINT));
      this.writeInt64Varint(value.intValue as Int64);
    } else if (present(value.doubleValue)) {
      this.writeVarint(key(4, FIXED64));
      this.buffer.writeDoubleLE(value.doubleValue as number, this.position);
      this.position += 8;
    } else if (value.arrayValue) {
      this.startMessage(5);
      for (const item of value.arrayValue.values ?? []) {
        this.startMessage(1);
        this.writeAnyValue(item);
      }
    } else if (value.kvlistValue) {
      this.startMessage(6);
      this.writeKeyValues(1, value.kvlistValue.values);
    } else if (value.bytesValue) {
      this.writeBytes(7, value.bytesValue);
    }
  }
}
