import type { Admission } from '../../core/admission.js';
import type { PipelineInput } from '../../core/component.js';
import type { TelemetrySignal } from '../../core/data/signal.js';
import type { Logger } from '../../core/logger.js';
import type { WorkerPool } from '../../core/pool/pool.js';
import type { PipelineMetrics } from '../../core/telemetry/metrics.js';
import type { RefusalLog } from './refusal.js';

/** The settings and services that the gRPC and the HTTP listener of one receiver share. */
export interface OtlpServerOptions {
  /** The receiver id, such as `otlp` or `otlp/edge`. */
  id: string;
  /** The pipelines per signal; requests for a signal without one get HTTP 404 or gRPC UNIMPLEMENTED. */
  consumers: Partial<Record<TelemetrySignal, PipelineInput>>;
  pool: WorkerPool;
  metrics: PipelineMetrics;
  logger: Logger;
  admission: Admission;
  refusals: RefusalLog;
}

/** google.rpc.Code values, which are also the gRPC status codes, as OTLP uses them. */
export const RPC_CODE = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;
