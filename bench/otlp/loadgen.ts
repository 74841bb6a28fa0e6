import { ChannelCredentials, Client, Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { EXPORT_TYPE_NAMES, decodeRpcStatus } from '../../core/otlp/codec.js';
import { encodeBatches, SPANS_PER_BATCH } from './spans.js';

/*
 * The load generator, run as its own process by run.ts. It pre-encodes distinct batches of 512
 * spans (or LOADGEN_SPANS_PER_BATCH), then keeps `concurrency` OTLP/gRPC Export calls in flight against the target until the
 * parent sends `stop`, and reports counts to the parent once a second. A refused call waits for
 * the RetryInfo delay the daemon sent (at most 1 s), as an OpenTelemetry SDK would, before its
 * worker sends again.
 */

const target = process.env.LOADGEN_TARGET as string;
const concurrency = Number(process.env.LOADGEN_CONCURRENCY ?? 8);
const batchCount = Number(process.env.LOADGEN_BATCHES ?? 32);
const spansPerBatch = Number(process.env.LOADGEN_SPANS_PER_BATCH ?? SPANS_PER_BATCH);

const counts = { sentSpans: 0, acceptedSpans: 0, refusedCalls: 0, failedCalls: 0, lastError: '' };
let running = true;

const batches = encodeBatches(batchCount, 42, spansPerBatch).map((bytes) => Buffer.from(bytes));
const bytesPerBatch = batches.reduce((total, batch) => total + batch.length, 0) / batches.length;
const client = new Client(target, ChannelCredentials.createInsecure(), { 'grpc.max_send_message_length': 64 * 1024 * 1024 });
const path = `/${EXPORT_TYPE_NAMES.traces.service}/Export`;
const identity = (value: Buffer) => value;

function exportOnce(batch: Buffer): Promise<ServiceError | null> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, identity, identity, batch, new Metadata(), { deadline: Date.now() + 30_000 }, (error) => resolve(error));
  });
}

function retryDelay(error: ServiceError): number {
  const details = error.metadata?.get('grpc-status-details-bin')[0];
  if (!Buffer.isBuffer(details)) return 100;
  return Math.min(decodeRpcStatus(details).retryDelayMs ?? 100, 1000);
}

async function worker(offset: number): Promise<void> {
  for (let i = offset; running; i += concurrency) {
    const error = await exportOnce(batches[i % batches.length]);
    counts.sentSpans += spansPerBatch;
    if (!error) {
      counts.acceptedSpans += spansPerBatch;
    } else if (error.code === GrpcStatus.UNAVAILABLE || error.code === GrpcStatus.RESOURCE_EXHAUSTED) {
      counts.refusedCalls++;
      counts.lastError = error.details;
      await new Promise((resolve) => setTimeout(resolve, retryDelay(error)));
    } else {
      counts.failedCalls++;
      counts.lastError = `${GrpcStatus[error.code]}: ${error.details}`;
    }
  }
}

process.on('message', (message: { type: string }) => {
  if (message.type === 'stop') running = false;
});

process.send?.({ type: 'ready', bytesPerBatch });
const timer = setInterval(() => process.send?.({ type: 'counts', counts }), 1000);
await new Promise<void>((resolve) => process.once('message', (message: { type: string }) => (message.type === 'start' ? resolve() : undefined)));
await Promise.all(Array.from({ length: concurrency }, (_, offset) => worker(offset)));
clearInterval(timer);
process.send?.({ type: 'counts', counts });
client.close();
process.disconnect?.();
