import { FindingsBatch, OtlpBatch, type Batch, type BatchOrigin } from '../../core/data/batch.js';
import type { Finding } from '../../core/data/finding.js';
import { isSignal, type Signal, type TelemetrySignal } from '../../core/data/signal.js';

/** Estimates the bytes a batch takes on the wire: protobuf size for telemetry, JSON size for findings. */
export function batchBytes(batch: Batch): number {
  if (batch.signal !== 'findings') return batch.toBytes().length;
  let total = 0;
  for (const finding of batch.findings) total += findingBytes(finding);
  return total;
}

function findingBytes(finding: Finding): number {
  return Buffer.byteLength(JSON.stringify(finding));
}

/**
 * Merges batches of one signal into one. Telemetry batches merge by concatenating their
 * protobuf bytes: an OTLP export request has a single repeated field, and protobuf parses
 * concatenated messages as one message whose repeated fields are appended.
 */
export function mergeBatches(batches: Batch[]): Batch {
  if (batches.length === 1) return batches[0];
  const first = batches[0];
  if (first.signal === 'findings') {
    const findings = batches.flatMap((batch) => (batch as FindingsBatch).findings);
    return new FindingsBatch(findings, first.origin);
  }
  const parts = batches.map((batch) => (batch as OtlpBatch).toBytes());
  const items = batches.reduce((total, batch) => total + batch.itemCount, 0);
  return OtlpBatch.fromBytes(first.signal, Buffer.concat(parts), items, first.origin);
}

/**
 * Splits a findings batch into parts of at most `maxItems` findings and `maxBytes` bytes (0: no
 * limit). A single finding larger than `maxBytes` travels alone. Telemetry batches are returned
 * whole.
 */
export function splitBatch(batch: Batch, maxItems: number, maxBytes: number): Batch[] {
  if (batch.signal !== 'findings' || (maxItems <= 0 && maxBytes <= 0)) return [batch];
  const parts: Batch[] = [];
  let current: Finding[] = [];
  let currentBytes = 0;
  for (const finding of batch.findings) {
    const size = maxBytes > 0 ? findingBytes(finding) : 0;
    const full = (maxItems > 0 && current.length >= maxItems) || (maxBytes > 0 && current.length > 0 && currentBytes + size > maxBytes);
    if (full) {
      parts.push(new FindingsBatch(current, batch.origin));
      current = [];
      currentBytes = 0;
    }
    current.push(finding);
    currentBytes += size;
  }
  if (current.length > 0) parts.push(new FindingsBatch(current, batch.origin));
  return parts;
}

/** The form a batch takes in the persistent queue: msgpack-friendly, without decoded messages. */
export interface StoredBatch {
  /** Format version, so a later release can read or skip what an older one wrote. */
  v: 1;
  signal: Signal;
  origin: BatchOrigin;
  /** OTLP protobuf bytes, for telemetry. */
  bytes?: Uint8Array;
  items?: number;
  /** The findings as a JSON array, which keeps optional fields absent rather than null. */
  findings?: string;
}

export function encodeStoredBatch(batch: Batch): StoredBatch {
  if (batch.signal === 'findings') return { v: 1, signal: 'findings', origin: batch.origin, findings: JSON.stringify(batch.findings) };
  return { v: 1, signal: batch.signal, origin: batch.origin, bytes: batch.toBytes(), items: batch.itemCount };
}

/** Rebuilds a batch read from the persistent queue; throws when the record is not one this version wrote. */
export function decodeStoredBatch(stored: unknown): Batch {
  const record = stored as Partial<StoredBatch> | undefined;
  if (!record || record.v !== 1 || typeof record.signal !== 'string' || !isSignal(record.signal)) {
    throw new Error('not a queued batch of format version 1');
  }
  const origin = record.origin ?? { receiver: 'unknown' };
  if (record.signal === 'findings') return new FindingsBatch(JSON.parse(record.findings ?? '[]') as Finding[], origin);
  if (!(record.bytes instanceof Uint8Array)) throw new Error('queued telemetry batch has no bytes');
  return OtlpBatch.fromBytes(record.signal as TelemetrySignal, record.bytes, record.items ?? 0, origin);
}
