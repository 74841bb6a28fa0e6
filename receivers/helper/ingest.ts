import type { PipelineInput } from '../../core/component.js';
import { OtlpBatch, type BatchOrigin } from '../../core/data/batch.js';
import type { TelemetrySignal } from '../../core/data/signal.js';
import type { IngestPayload, IngestResult, WorkerPool } from '../../core/pool/pool.js';
import type { PipelineMetrics } from '../../core/telemetry/metrics.js';
import { isRetryable } from '../../core/errors.js';

export interface IngestOutcome {
  /** Items passed to the pipelines. */
  accepted: number;
  /** Lines kept as raw records because they could not be parsed. */
  parseFailures: number;
  /** OTLP items left out as invalid while the rest went on; 0 when none were. */
  rejected: number;
  /** The reason the first rejected item was invalid; empty when none were. */
  rejectedMessage: string;
}

/** The number of items a payload holds before decoding: its lines or frames, else one request. */
function payloadItems(payload: IngestPayload): number {
  if (payload.kind === 'lines') return payload.lines.length;
  if (payload.kind === 'frames') return payload.frames.ends.length;
  return 1;
}

/**
 * The path every receiver takes: decode or parse the payload in the worker pool (running the
 * stages the downstream processors asked for in the same task), wrap the result as a batch, and
 * hand it to the pipelines. Resolves once every pipeline accepted the batch; rejects with the
 * error to answer the sender with, after counting the refused items.
 */
export async function ingest(
  pool: WorkerPool,
  metrics: PipelineMetrics,
  input: PipelineInput,
  signal: TelemetrySignal,
  payload: IngestPayload,
  origin: BatchOrigin,
): Promise<IngestOutcome> {
  const labels = { receiver: origin.receiver, signal };
  let result: IngestResult;
  try {
    result = await pool.ingest({ signal, payload, stages: input.workerStages.map((stage) => stage.id) });
  } catch (error) {
    metrics.receiverRefused.add({ ...labels, reason: isRetryable(error) ? 'overloaded' : 'decode' }, payloadItems(payload));
    throw error;
  }
  const rejected = result.rejected ?? 0;
  const rejectedMessage = result.rejectedMessage ?? '';
  if (rejected > 0) metrics.receiverRefused.add({ ...labels, reason: 'invalid' }, rejected);
  if (result.itemCount === 0) return { accepted: 0, parseFailures: result.parseFailures, rejected, rejectedMessage };

  const bytes = result.bytes ?? (payload.kind === 'otlp_protobuf' ? payload.bytes : undefined);
  if (!bytes) throw new Error('worker returned no bytes for a non-protobuf payload');
  const batch = OtlpBatch.fromBytes(signal, bytes, result.itemCount, origin);
  for (const [id, stageResult] of Object.entries(result.stages)) batch.analysis.set(id, stageResult);
  batch.markedBytes = result.markedBytes;

  try {
    await input.consume(batch);
  } catch (error) {
    metrics.receiverRefused.add({ ...labels, reason: isRetryable(error) ? 'downstream_busy' : 'downstream_rejected' }, result.itemCount);
    throw error;
  }
  metrics.receiverAccepted.add(labels, result.itemCount);
  return { accepted: result.itemCount, parseFailures: result.parseFailures, rejected, rejectedMessage };
}
