import { decodeRequest, encodeRequest, type ExportLogsServiceRequest, type ExportTraceServiceRequest } from '../../../core/otlp/codec.js';
import type { WorkerModule } from '../../../core/pool/worker-api.js';
import type { ProbabilisticSamplerConfig } from './config.js';
import { sampleLogs, sampleTraces, type SampleCounts } from './sampler.js';

/* Worker-thread side of the probabilistic sampler: decode, sample, encode. */

export interface SampleTask {
  signal: 'traces' | 'logs';
  bytes: Uint8Array;
  config: ProbabilisticSamplerConfig;
}

export interface SampleResult extends SampleCounts {
  /** The sampled request; absent when every item was kept or none was. */
  bytes?: Uint8Array;
}

export function sample(task: SampleTask): SampleResult {
  const request = decodeRequest(task.signal, task.bytes);
  const counts = task.signal === 'traces'
    ? sampleTraces(request as ExportTraceServiceRequest, task.config)
    : sampleLogs(request as ExportLogsServiceRequest, task.config);
  if (counts.kept === 0 || counts.dropped === 0) return counts;
  return { ...counts, bytes: encodeRequest(task.signal, request) };
}

export const tasks: WorkerModule['tasks'] = {
  probabilistic_sampler: (input: SampleTask) => sample(input),
};
