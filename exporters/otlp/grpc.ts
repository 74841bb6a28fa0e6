import { readFileSync } from 'node:fs';
import { ChannelCredentials, Client, Metadata, status as GrpcStatus, type ChannelOptions, type ServiceError } from '@grpc/grpc-js';
import type { TelemetrySignal } from '../../core/data/signal.js';
import { decodeResponse, decodeRpcStatus, EXPORT_TYPE_NAMES } from '../../core/otlp/codec.js';
import { SendError } from '../helper/errors.js';
import { grpcTarget, type OtlpExporterConfig } from './config.js';
import type { ExportAnswer, OtlpTransport } from './transport.js';

/** grpc-js's number for gzip in `grpc.default_compression_algorithm`. */
const GRPC_GZIP = 2;

/**
 * Status codes the OTLP specification lets a client retry. RESOURCE_EXHAUSTED is retried only
 * when the server attached a RetryInfo, which means the limit is temporary.
 */
const RETRYABLE_CODES = new Set<number>([
  GrpcStatus.CANCELLED,
  GrpcStatus.DEADLINE_EXCEEDED,
  GrpcStatus.ABORTED,
  GrpcStatus.OUT_OF_RANGE,
  GrpcStatus.UNAVAILABLE,
  GrpcStatus.DATA_LOSS,
]);

const identity = (value: Buffer): Buffer => value;

/** OTLP/gRPC: one channel to the endpoint, one unary Export call per request. */
export class GrpcTransport implements OtlpTransport {
  private readonly client: Client;
  private readonly headers: [string, string][];

  constructor(config: OtlpExporterConfig) {
    const { target, secure } = grpcTarget(config);
    const options: ChannelOptions = { 'grpc.primary_user_agent': 'watchpost' };
    if (config.compression === 'gzip') options['grpc.default_compression_algorithm'] = GRPC_GZIP;
    if (config.tls.server_name_override) options['grpc.ssl_target_name_override'] = config.tls.server_name_override;
    this.client = new Client(target, secure ? tlsCredentials(config) : ChannelCredentials.createInsecure(), options);
    this.headers = Object.entries(config.headers).map(([name, value]) => [name.toLowerCase(), value]);
  }

  send(signal: TelemetrySignal, request: Uint8Array, abort: AbortSignal): Promise<ExportAnswer> {
    const metadata = new Metadata();
    for (const [name, value] of this.headers) metadata.set(name, value);
    const body = Buffer.from(request.buffer, request.byteOffset, request.byteLength);
    return new Promise<ExportAnswer>((resolve, reject) => {
      const call = this.client.makeUnaryRequest(`/${EXPORT_TYPE_NAMES[signal].service}/Export`, identity, identity, body, metadata, {}, (error, response) => {
        abort.removeEventListener('abort', cancel);
        if (error) reject(statusError(error, abort));
        else resolve(answerOf(signal, response));
      });
      const cancel = () => call.cancel();
      abort.addEventListener('abort', cancel, { once: true });
    });
  }

  close(): void {
    this.client.close();
  }
}

function tlsCredentials(config: OtlpExporterConfig): ChannelCredentials {
  const tls = config.tls;
  return ChannelCredentials.createSsl(
    tls.ca_file ? readFileSync(tls.ca_file) : null,
    tls.key_file ? readFileSync(tls.key_file) : null,
    tls.cert_file ? readFileSync(tls.cert_file) : null,
    { rejectUnauthorized: !tls.insecure_skip_verify },
  );
}

function answerOf(signal: TelemetrySignal, response: Buffer | undefined): ExportAnswer {
  if (!response || response.length === 0) return { rejected: 0, errorMessage: '' };
  try {
    return decodeResponse(signal, response);
  } catch {
    // The export itself succeeded; an unreadable response only loses the partial-success detail.
    return { rejected: 0, errorMessage: '' };
  }
}

function statusError(error: ServiceError, abort: AbortSignal): SendError {
  if (abort.aborted) {
    const reason = abort.reason instanceof Error ? abort.reason.message : 'cancelled';
    return new SendError(`gRPC export ${reason}`, { retryable: true, cause: error });
  }
  const retryDelayMs = retryDelayOf(error.metadata);
  const retryable = RETRYABLE_CODES.has(error.code) || (error.code === GrpcStatus.RESOURCE_EXHAUSTED && retryDelayMs !== undefined);
  return new SendError(`server responded with gRPC ${GrpcStatus[error.code] ?? error.code}: ${error.details}`, { retryable, retryAfterMs: retryDelayMs, cause: error });
}

/** Reads the delay of a google.rpc.RetryInfo in the status details trailer, in milliseconds. */
function retryDelayOf(metadata: Metadata | undefined): number | undefined {
  const details = metadata?.get('grpc-status-details-bin')[0];
  if (!Buffer.isBuffer(details)) return undefined;
  try {
    return decodeRpcStatus(details).retryDelayMs;
  } catch {
    return undefined;
  }
}
