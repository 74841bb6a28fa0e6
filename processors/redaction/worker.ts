import { decodeRequest, encodeRequest } from '../../core/otlp/codec.js';
import type { TelemetrySignal } from '../../core/data/signal.js';
import type { WorkerModule } from '../../core/pool/worker-api.js';
import { Redactor, type RedactionCounts, type RedactionOptions } from './redactor.js';

/* Worker-thread side of redaction: decode, redact, encode when something changed. */

export interface RedactTask {
  signal: TelemetrySignal;
  bytes: Uint8Array;
  options: RedactionOptions;
}

export interface RedactResult {
  counts: RedactionCounts;
  /** The redacted request; absent when nothing was replaced. */
  bytes?: Uint8Array;
}

const redactors = new Map<string, Redactor>();

export function redact(task: RedactTask): RedactResult {
  const key = JSON.stringify(task.options);
  let redactor = redactors.get(key);
  if (!redactor) {
    redactor = new Redactor(task.options);
    redactors.set(key, redactor);
  }
  const request = decodeRequest(task.signal, task.bytes);
  redactor.request(task.signal, request);
  const counts = redactor.takeCounts();
  if (Object.keys(counts).length === 0) return { counts };
  return { counts, bytes: encodeRequest(task.signal, request) };
}

export const tasks: WorkerModule['tasks'] = {
  redaction: (input: RedactTask) => redact(input),
};
