import { inflateRawSync } from 'node:zlib';
import type { TelemetrySignal } from '../../core/data/signal.js';

/*
 * Protobuf wire-format surgery on OTLP export requests, without decoding them. All three requests
 * share one shape. Field 1 repeats the resource entries (ResourceSpans, ResourceLogs,
 * ResourceMetrics). In each of those, field 2 repeats the scope entries, and in each scope entry
 * field 2 repeats the items (Span, LogRecord, Metric). Every other field (resource, scope,
 * schema_url, unknown fields) is copied as it is. Concatenating two encoded requests gives a valid
 * request holding both, because protobuf merges repeated fields by appending.
 */

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;
/** Groups nested deeper than this are rejected, as protobuf decoders limit recursion. */
const MAX_GROUP_DEPTH = 64;

/** Field numbers of the data kinds in an OTLP Metric; each kind repeats its data points in field 1. */
const METRIC_DATA_FIELDS = new Set([5, 7, 9, 10, 11]);

interface FieldRange {
  number: number;
  /** The first byte of the tag. */
  start: number;
  /** The value bytes of a length-delimited field. */
  valueStart: number;
  /** The end of the whole field, exclusive. */
  end: number;
  wireType: number;
}

export class WireError extends Error {}

function readVarint(bytes: Uint8Array, position: number): [number, number] {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 10; i++) {
    if (position >= bytes.length) throw new WireError('truncated varint');
    const byte = bytes[position++];
    value += (byte & 0x7f) * multiplier;
    if (byte < 0x80) return [value, position];
    multiplier *= 128;
  }
  throw new WireError('varint longer than 10 bytes');
}

function* fields(bytes: Uint8Array, start: number, end: number): Generator<FieldRange> {
  let position = start;
  while (position < end) {
    const fieldStart = position;
    const [tag, afterTag] = readVarint(bytes, position);
    const wireType = tag % 8;
    const number = Math.floor(tag / 8);
    let valueStart = afterTag;
    let fieldEnd: number;
    if (wireType === WIRE_VARINT) fieldEnd = readVarint(bytes, afterTag)[1];
    else if (wireType === WIRE_FIXED64) fieldEnd = afterTag + 8;
    else if (wireType === WIRE_FIXED32) fieldEnd = afterTag + 4;
    else if (wireType === WIRE_LEN) {
      const [length, afterLength] = readVarint(bytes, afterTag);
      valueStart = afterLength;
      fieldEnd = afterLength + length;
    } else if (wireType === WIRE_START_GROUP) fieldEnd = groupEnd(bytes, afterTag, end, number, 1);
    else throw new WireError(`unsupported wire type ${wireType}`);
    if (fieldEnd > end) throw new WireError('field runs past the end of its message');
    yield { number, start: fieldStart, valueStart, end: fieldEnd, wireType };
    position = fieldEnd;
  }
}

/**
 * Returns the position after the end-group tag of group `number`, whose fields start at
 * `position`. OTLP defines no groups, but a sender's newer schema may carry one as an unknown
 * field, which a decoder skips.
 */
function groupEnd(bytes: Uint8Array, position: number, end: number, number: number, depth: number): number {
  if (depth > MAX_GROUP_DEPTH) throw new WireError('groups nested too deeply');
  while (position < end) {
    const [tag, afterTag] = readVarint(bytes, position);
    const wireType = tag % 8;
    const fieldNumber = Math.floor(tag / 8);
    if (wireType === WIRE_END_GROUP) {
      if (fieldNumber !== number) throw new WireError(`group ${number} ends with the end tag of group ${fieldNumber}`);
      return afterTag;
    }
    if (wireType === WIRE_VARINT) position = readVarint(bytes, afterTag)[1];
    else if (wireType === WIRE_FIXED64) position = afterTag + 8;
    else if (wireType === WIRE_FIXED32) position = afterTag + 4;
    else if (wireType === WIRE_LEN) {
      const [length, afterLength] = readVarint(bytes, afterTag);
      position = afterLength + length;
    } else if (wireType === WIRE_START_GROUP) position = groupEnd(bytes, afterTag, end, fieldNumber, depth + 1);
    else throw new WireError(`unsupported wire type ${wireType}`);
  }
  throw new WireError(`group ${number} has no end tag`);
}

function encodeVarint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 128) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

/** Bytes appended in pieces and joined once. */
class Builder {
  readonly parts: Uint8Array[] = [];
  length = 0;

  push(part: Uint8Array): void {
    this.parts.push(part);
    this.length += part.length;
  }

  /** Appends a length-delimited field whose value is the content of `inner`. */
  pushMessage(fieldNumber: number, inner: Builder): void {
    this.push(Uint8Array.from([...encodeVarint(fieldNumber * 8 + WIRE_LEN), ...encodeVarint(inner.length)]));
    for (const part of inner.parts) this.push(part);
  }

  finish(): Uint8Array {
    return Buffer.concat(this.parts, this.length);
  }
}

interface Item {
  bytes: Uint8Array;
  count: number;
}

interface Scope {
  header: Uint8Array[];
  items: Item[];
}

interface Resource {
  header: Uint8Array[];
  scopes: Scope[];
}

/** Counts the data points of one encoded Metric. */
function countDataPoints(bytes: Uint8Array, start: number, end: number): number {
  let count = 0;
  for (const field of fields(bytes, start, end)) {
    if (!METRIC_DATA_FIELDS.has(field.number) || field.wireType !== WIRE_LEN) continue;
    for (const point of fields(bytes, field.valueStart, field.end)) if (point.number === 1) count++;
  }
  return count;
}

function parseRequest(signal: TelemetrySignal, bytes: Uint8Array): Resource[] {
  const resources: Resource[] = [];
  for (const resourceField of fields(bytes, 0, bytes.length)) {
    if (resourceField.number !== 1 || resourceField.wireType !== WIRE_LEN) continue;
    const resource: Resource = { header: [], scopes: [] };
    for (const field of fields(bytes, resourceField.valueStart, resourceField.end)) {
      if (field.number !== 2 || field.wireType !== WIRE_LEN) {
        resource.header.push(bytes.subarray(field.start, field.end));
        continue;
      }
      const scope: Scope = { header: [], items: [] };
      for (const inner of fields(bytes, field.valueStart, field.end)) {
        const raw = bytes.subarray(inner.start, inner.end);
        if (inner.number !== 2 || inner.wireType !== WIRE_LEN) scope.header.push(raw);
        else scope.items.push({ bytes: raw, count: signal === 'metrics' ? countDataPoints(bytes, inner.valueStart, inner.end) : 1 });
      }
      resource.scopes.push(scope);
    }
    resources.push(resource);
  }
  return resources;
}

export interface RequestChunk {
  bytes: Uint8Array;
  /** Spans, log records or metric data points in the chunk. */
  items: number;
}

/**
 * Splits an encoded request into requests of at most `maxItems` items and about `maxBytes` bytes
 * each (0 means no limit), keeping every item's resource and scope. The byte limit counts the
 * items' own bytes, not the resource and scope copied around them. A chunk exceeds a limit only
 * when a single item does: metrics split between metrics, never inside one.
 */
export function splitRequest(signal: TelemetrySignal, bytes: Uint8Array, maxItems: number, maxBytes = 0): RequestChunk[] {
  const chunks: RequestChunk[] = [];
  let request = new Builder();
  let requestItems = 0;
  let requestBytes = 0;
  const itemLimit = maxItems > 0 ? maxItems : Infinity;
  const byteLimit = maxBytes > 0 ? maxBytes : Infinity;
  const close = () => {
    if (requestItems === 0) return;
    chunks.push({ bytes: request.finish(), items: requestItems });
    request = new Builder();
    requestItems = 0;
    requestBytes = 0;
  };
  for (const resource of parseRequest(signal, bytes)) {
    let scopes: Builder[] = [];
    const flushResource = () => {
      if (scopes.length === 0) return;
      const body = new Builder();
      for (const part of resource.header) body.push(part);
      for (const scope of scopes) body.pushMessage(2, scope);
      request.pushMessage(1, body);
      scopes = [];
    };
    for (const scope of resource.scopes) {
      let current: Builder | undefined;
      for (const item of scope.items) {
        if (requestItems > 0 && (requestItems + item.count > itemLimit || requestBytes + item.bytes.length > byteLimit)) {
          if (current) scopes.push(current);
          current = undefined;
          flushResource();
          close();
        }
        if (!current) {
          current = new Builder();
          for (const part of scope.header) current.push(part);
        }
        current.push(item.bytes);
        requestItems += item.count;
        requestBytes += item.bytes.length;
      }
      if (current) scopes.push(current);
    }
    flushResource();
  }
  close();
  return chunks;
}

/** Joins encoded requests of one signal into one request. */
export function concatRequests(parts: readonly Uint8Array[]): Uint8Array {
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/**
 * Spans of one trace under one resource and scope, as byte ranges of an encoded request. Ranges
 * are flat `[start, end, start, end, …]` number arrays rather than views, because a tail sampler
 * keeps hundreds of thousands of them and every typed-array view is a heap object of its own.
 */
export interface SpanGroup {
  /** The encoded request the ranges point into, as bytes or deflated. */
  source: Uint8Array | DeflatedRequest;
  /** The resource entry's fields other than its scope entries (resource, schema_url). */
  resourceHeader: number[];
  /** The scope entry's fields other than its spans (scope, schema_url). */
  scopeHeader: number[];
  /** The spans' whole fields (tag, length and message); spans next to each other share one range. */
  spans: number[];
  /** Spans in the group. */
  count: number;
}

/**
 * An encoded request kept deflated (raw deflate, no header). A tail sampler keeps every request
 * for its decision wait, and OTLP requests deflate to a few times smaller (7 times for the
 * sampling benchmark's), so holding them deflated takes most of that memory back. `bytes`
 * inflates on first use and keeps the result until `close`, which its InflatedCache calls once
 * other requests were read since.
 */
export class DeflatedRequest {
  private inflated: Uint8Array | undefined;

  /**
   * @param size the request's size inflated.
   * @param cache keeps the inflated copy for the next groups of this request, within its budget.
   */
  constructor(private readonly deflated: Uint8Array, readonly size: number, private readonly cache?: InflatedCache) {}

  get bytes(): Uint8Array {
    this.inflated ??= inflateRawSync(this.deflated);
    this.cache?.used(this);
    return this.inflated;
  }

  /** Size of the deflated copy, in bytes. */
  get heldBytes(): number {
    return this.deflated.byteLength;
  }

  /** True while an inflated copy is kept. */
  get isInflated(): boolean {
    return this.inflated !== undefined;
  }

  /** Drops the inflated copy; the next read inflates again. */
  close(): void {
    this.inflated = undefined;
  }
}

/**
 * The inflated copies of the requests read most recently, up to `limit` bytes, and always the last
 * one. Groups of one request are often passed on in several steps (a trace decided early because
 * `num_traces` is full, traces of one batch due in different ticks). Without the cache each step
 * would inflate the whole request again.
 */
export class InflatedCache {
  private readonly open = new Set<DeflatedRequest>();
  private bytes = 0;

  constructor(private readonly limit: number) {}

  /** Marks a request as read just now; closes the least recently read ones past the budget. */
  used(request: DeflatedRequest): void {
    if (this.open.delete(request)) {
      this.open.add(request);
      return;
    }
    this.open.add(request);
    this.bytes += request.size;
    while (this.bytes > this.limit && this.open.size > 1) {
      const oldest = this.open.values().next().value as DeflatedRequest;
      this.open.delete(oldest);
      this.bytes -= oldest.size;
      oldest.close();
    }
  }

  /** Closes every request it keeps inflated. */
  clear(): void {
    for (const request of this.open) request.close();
    this.open.clear();
    this.bytes = 0;
  }
}

/** Returns the bytes a group's ranges point into, inflating them if needed. */
export function groupSource(group: SpanGroup): Uint8Array {
  return group.source instanceof Uint8Array ? group.source : group.source.bytes;
}

/** Encoded bytes of a group's spans, not counting the resource and scope around them. */
export function spanBytes(group: SpanGroup): number {
  let total = 0;
  for (let i = 0; i < group.spans.length; i += 2) total += group.spans[i + 1] - group.spans[i];
  return total;
}

/**
 * Groups the spans of an encoded traces request by trace id (lower-case hex, empty for a span
 * without one), as ranges of `bytes`. Nothing is decoded or copied.
 */
export function groupSpansByTrace(bytes: Uint8Array): Map<string, SpanGroup[]> {
  const byTrace = new Map<string, SpanGroup[]>();
  for (const resourceField of fields(bytes, 0, bytes.length)) {
    if (resourceField.number !== 1 || resourceField.wireType !== WIRE_LEN) continue;
    const resourceHeader: number[] = [];
    const scopes: FieldRange[] = [];
    for (const field of fields(bytes, resourceField.valueStart, resourceField.end)) {
      if (field.number === 2 && field.wireType === WIRE_LEN) scopes.push(field);
      else resourceHeader.push(field.start, field.end);
    }
    for (const scopeField of scopes) {
      const scopeHeader: number[] = [];
      const spans: FieldRange[] = [];
      for (const field of fields(bytes, scopeField.valueStart, scopeField.end)) {
        if (field.number === 2 && field.wireType === WIRE_LEN) spans.push(field);
        else scopeHeader.push(field.start, field.end);
      }
      const inScope = new Map<string, SpanGroup>();
      for (const span of spans) {
        const traceId = traceIdOf(bytes, span);
        const group = inScope.get(traceId);
        if (!group) {
          // A literal of two sizes the array to its usual length; `[]` and a push reserve 17 slots.
          const created: SpanGroup = { source: bytes, resourceHeader, scopeHeader, spans: [span.start, span.end], count: 1 };
          inScope.set(traceId, created);
          const groups = byTrace.get(traceId);
          if (groups) groups.push(created);
          else byTrace.set(traceId, [created]);
          continue;
        }
        const ranges = group.spans;
        if (ranges[ranges.length - 1] === span.start) ranges[ranges.length - 1] = span.end;
        else ranges.push(span.start, span.end);
        group.count++;
      }
    }
  }
  return byTrace;
}

function traceIdOf(bytes: Uint8Array, span: FieldRange): string {
  for (const field of fields(bytes, span.valueStart, span.end)) {
    if (field.number === 1 && field.wireType === WIRE_LEN) return Buffer.from(bytes.buffer, bytes.byteOffset + field.valueStart, field.end - field.valueStart).toString('hex');
  }
  return '';
}

function pushRanges(builder: Builder, source: Uint8Array, ranges: number[]): void {
  for (let i = 0; i < ranges.length; i += 2) builder.push(source.subarray(ranges[i], ranges[i + 1]));
}

/** Encodes span groups as one traces request; each group becomes a resource entry of its own. */
export function encodeSpanGroups(groups: readonly SpanGroup[]): Uint8Array {
  const request = new Builder();
  for (const group of groups) {
    const source = groupSource(group);
    const scope = new Builder();
    pushRanges(scope, source, group.scopeHeader);
    pushRanges(scope, source, group.spans);
    const resource = new Builder();
    pushRanges(resource, source, group.resourceHeader);
    resource.pushMessage(2, scope);
    request.pushMessage(1, resource);
  }
  return request.finish();
}
