import { otlp, type ExportLogsServiceRequest, type ExportRequest, type ExportTraceServiceRequest, type IKeyValue } from './codec.js';
import type { TelemetrySignal } from '../data/signal.js';

/*
 * Adds attributes to spans or log records by editing the protobuf bytes of an export request
 * instead of encoding the whole request again.
 *
 * Protobuf lets the entries of a repeated field appear anywhere in a message, and a decoder
 * appends them in the order it meets them. So attributes appended at the end of a span's bytes
 * decode after its existing ones, exactly as if they had been pushed onto the decoded
 * `attributes` array. Only the length prefixes of the changed span and of the ScopeSpans and
 * ResourceSpans around it change; everything else is copied as it is. The same holds for log
 * records in ScopeLogs and ResourceLogs.
 *
 * Field numbers used below (opentelemetry-proto v1):
 *   ExportTraceServiceRequest.resource_spans = 1, ResourceSpans.scope_spans = 2,
 *   ScopeSpans.spans = 2, Span.attributes = 9;
 *   ExportLogsServiceRequest.resource_logs = 1, ResourceLogs.scope_logs = 2,
 *   ScopeLogs.log_records = 2, LogRecord.attributes = 6.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** The attributes field number of a span and of a log record. */
const ATTRIBUTES_FIELD: Partial<Record<TelemetrySignal, number>> = { traces: 9, logs: 6 };

interface AttributeOwner {
  attributes?: IKeyValue[] | null;
}

/** Returns the spans or log records of a request in the order their bytes appear. */
function itemsInOrder(signal: TelemetrySignal, request: ExportRequest): AttributeOwner[] {
  const items: AttributeOwner[] = [];
  if (signal === 'traces') {
    for (const resource of (request as ExportTraceServiceRequest).resourceSpans ?? []) {
      for (const scope of resource.scopeSpans ?? []) for (const span of scope.spans ?? []) items.push(span);
    }
  } else if (signal === 'logs') {
    for (const resource of (request as ExportLogsServiceRequest).resourceLogs ?? []) {
      for (const scope of resource.scopeLogs ?? []) for (const record of scope.logRecords ?? []) items.push(record);
    }
  }
  return items;
}

/** Reports whether attributes of this signal's items can be spliced; metrics have no such items. */
export function canSpliceAttributes(signal: TelemetrySignal): boolean {
  return ATTRIBUTES_FIELD[signal] !== undefined;
}

/** Returns the number of attributes of every span or log record, in byte order, to compare with after a change. */
export function attributeCounts(signal: TelemetrySignal, request: ExportRequest): Uint32Array {
  const items = itemsInOrder(signal, request);
  const counts = new Uint32Array(items.length);
  for (let i = 0; i < items.length; i++) counts[i] = items[i].attributes?.length ?? 0;
  return counts;
}

/**
 * Returns `bytes` with the attributes appended to items since `counts` was taken added to
 * their encodings. `bytes` must encode `request` as it was when `counts` was taken, and the
 * only change since must be attributes pushed onto the end of items' `attributes` lists.
 * Throws when the bytes do not have the structure the request has.
 */
export function spliceAppendedAttributes(signal: TelemetrySignal, bytes: Uint8Array, request: ExportRequest, counts: Uint32Array): Uint8Array {
  const field = ATTRIBUTES_FIELD[signal];
  if (field === undefined) throw new Error(`cannot splice attributes into a ${signal} request`);
  const items = itemsInOrder(signal, request);
  if (items.length !== counts.length) throw new Error(`the request has ${items.length} items but ${counts.length} were counted`);

  const additions = new Map<number, Uint8Array>();
  for (let i = 0; i < items.length; i++) {
    const attributes = items[i].attributes ?? [];
    if (attributes.length > counts[i]) additions.set(i, encodeAttributes(field, attributes.slice(counts[i])));
  }
  if (additions.size === 0) return bytes;

  const splicer = new Splicer(bytes, additions);
  const parts = splicer.message(0, bytes.length, 0);
  if (splicer.itemIndex !== items.length) throw new Error(`the bytes hold ${splicer.itemIndex} items but the request has ${items.length}`);
  return parts ? concat(parts.chunks, parts.length) : bytes;
}

/** Encodes KeyValues as entries of the attributes field, ready to append to an item's bytes. */
function encodeAttributes(field: number, attributes: IKeyValue[]): Uint8Array {
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (const attribute of attributes) {
    const body = otlp.common.v1.KeyValue.encode(attribute).finish();
    const header = [...varint((field << 3) | WIRE_LENGTH_DELIMITED), ...varint(body.length)];
    chunks.push(Uint8Array.from(header), body);
    length += header.length + body.length;
  }
  return concat(chunks, length);
}

interface Parts {
  chunks: Uint8Array[];
  length: number;
}

/**
 * Walks the request's bytes three levels deep (resource, scope, item), copying every field it
 * does not need to change as one slice and rewriting the length prefixes above changed items.
 */
class Splicer {
  /** The index of the next span or log record, in byte order. */
  itemIndex = 0;
  private position = 0;

  constructor(private readonly bytes: Uint8Array, private readonly additions: Map<number, Uint8Array>) {}

  /**
   * Returns the new content of the message in [start, end), or undefined when no item in it
   * changed, so the caller copies it as it is. `depth` 0 is the request, 1 a resource, 2 a scope.
   */
  message(start: number, end: number, depth: number): Parts | undefined {
    const parts: Parts = { chunks: [], length: 0 };
    let changed = false;
    let copiedFrom = start;
    this.position = start;
    while (this.position < end) {
      const fieldStart = this.position;
      const tag = this.readVarint();
      const fieldNumber = tag >>> 3;
      const wireType = tag & 7;
      if (wireType !== WIRE_LENGTH_DELIMITED) {
        this.skip(wireType);
        continue;
      }
      const length = this.readVarint();
      const contentStart = this.position;
      const contentEnd = contentStart + length;
      if (contentEnd > end) throw new Error('a length prefix points past the end of its message');
      // Level 0 contains resources in field 1, and levels 1 and 2 contain scopes and items in field 2.
      const nested = depth === 0 ? fieldNumber === 1 : fieldNumber === 2;
      if (!nested) {
        this.position = contentEnd;
        continue;
      }
      const content = depth === 2 ? this.item(contentStart, contentEnd) : this.message(contentStart, contentEnd, depth + 1);
      this.position = contentEnd;
      if (content === undefined) continue;
      changed = true;
      push(parts, this.bytes.subarray(copiedFrom, fieldStart));
      push(parts, Uint8Array.from([...varint(tag), ...varint(content.length)]));
      for (const chunk of content.chunks) push(parts, chunk);
      copiedFrom = contentEnd;
    }
    if (this.position !== end) throw new Error('a field runs past the end of its message');
    if (!changed) return undefined;
    push(parts, this.bytes.subarray(copiedFrom, end));
    return parts;
  }

  /** Returns the new content of an item that gains attributes, or undefined to copy it as it is. */
  private item(start: number, end: number): Parts | undefined {
    const addition = this.additions.get(this.itemIndex++);
    if (!addition) return undefined;
    const original = this.bytes.subarray(start, end);
    return { chunks: [original, addition], length: original.length + addition.length };
  }

  private readVarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.position >= this.bytes.length) throw new Error('a varint runs past the end of the bytes');
      const byte = this.bytes[this.position++];
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new Error('a varint is longer than 5 bytes');
  }

  private skip(wireType: number): void {
    if (wireType === WIRE_VARINT) {
      while (this.position < this.bytes.length && (this.bytes[this.position++] & 0x80) !== 0);
    } else if (wireType === WIRE_FIXED64) {
      this.position += 8;
    } else if (wireType === WIRE_FIXED32) {
      this.position += 4;
    } else {
      throw new Error(`unexpected wire type ${wireType}`);
    }
  }
}

function push(parts: Parts, chunk: Uint8Array): void {
  if (chunk.length === 0) return;
  parts.chunks.push(chunk);
  parts.length += chunk.length;
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  while (value > 0x7f) {
    bytes.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  bytes.push(value);
  return bytes;
}

function concat(chunks: Uint8Array[], length: number): Uint8Array {
  const output = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    output.set(chunk, offset);
    offset += chunk.length;
  }
  return output;
}
