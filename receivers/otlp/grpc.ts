import {
  Metadata, Server, ServerCredentials, status as GrpcStatus,
  type sendUnaryData, type ServerUnaryCall, type ServiceDefinition, type ServerOptions, type ServerErrorResponse,
} from '@grpc/grpc-js';
import { TELEMETRY_SIGNALS, type TelemetrySignal } from '../../core/data/signal.js';
import { EXPORT_TYPE_NAMES, encodeResponse, encodeRpcStatus } from '../../core/otlp/codec.js';
import { normalizeAddress, splitHostPort, joinHostPort } from '../../core/net.js';
import { ingest } from '../helper/ingest.js';
import { bearerTokenCheck, type BearerTokenCheck } from './auth.js';
import type { OtlpGrpcConfig } from './config.js';
import { classifyExportError } from './refusal.js';
import { GrpcServerTlsCredentials, readServerTls } from './tls.js';
import type { OtlpServerOptions } from './shared.js';
import { InflightBudget } from './inflight.js';

/** How long shutdown waits for calls in progress before it closes their connections, in milliseconds. */
const SHUTDOWN_GRACE_MS = 5000;

const identity = (value: Buffer): Buffer => value;

/**
 * The Export method of one OTLP service. Requests and responses pass as raw bytes: the request
 * is decoded in the worker pool, never on this thread, and the response is encoded by the codec.
 */
function exportService(signal: TelemetrySignal): ServiceDefinition {
  return {
    Export: {
      path: `/${EXPORT_TYPE_NAMES[signal].service}/Export`,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
}

/** An error status, with a google.rpc.Status in the trailers when the client should wait before retrying. */
class GrpcRefusal extends Error implements ServerErrorResponse {
  readonly metadata = new Metadata();

  constructor(readonly code: GrpcStatus, readonly details: string, readonly reason: string, retryAfterSeconds?: number) {
    super(details);
    if (retryAfterSeconds !== undefined) {
      this.metadata.set('grpc-status-details-bin', Buffer.from(encodeRpcStatus(code, details, retryAfterSeconds * 1000)));
    }
  }
}

/**
 * OTLP/gRPC: the `Export` calls of TraceService, LogsService and MetricsService, over plaintext
 * or TLS. Status codes follow the OTLP specification and are never left as UNKNOWN:
 * - OK, with `partial_success` and the count of rejected items when only some were invalid;
 * - INVALID_ARGUMENT for bad data, which the client must not retry;
 * - UNAVAILABLE with a RetryInfo detail when a queue is full, the daemon is short of memory or
 *   stopping, so the client retries later;
 * - UNAUTHENTICATED without the configured bearer token;
 * - RESOURCE_EXHAUSTED, from grpc-js, for a message over `max_recv_msg_size_mib` after decompression;
 * - UNIMPLEMENTED for a signal no pipeline takes from this receiver.
 * NOTE: grpc-js responds to a request whose gzip data is corrupt with INTERNAL ("Failed to
 * decompress message") before the handler runs, so that case is not INVALID_ARGUMENT.
 */
export class OtlpGrpcServer {
  private server: Server | undefined;
  private port = 0;
  private readonly bearer: BearerTokenCheck | undefined;
  private readonly inflight: InflightBudget;

  constructor(private readonly options: OtlpServerOptions & { config: OtlpGrpcConfig }) {
    this.bearer = bearerTokenCheck(options.config.auth);
    this.inflight = new InflightBudget(options.config.max_inflight_bytes);
  }

  async start(): Promise<void> {
    const config = this.options.config;
    const serverOptions: ServerOptions = { 'grpc.max_receive_message_length': config.max_recv_msg_size_mib * 1024 * 1024 };
    if (config.max_concurrent_streams > 0) serverOptions['grpc.max_concurrent_streams'] = config.max_concurrent_streams;
    const server = new Server(serverOptions);
    for (const signal of TELEMETRY_SIGNALS) {
      if (!this.options.consumers[signal]) continue;
      server.addService(exportService(signal), {
        Export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => void this.export(signal, call, callback),
      });
    }
    try {
      this.port = await new Promise<number>((resolve, reject) => {
        server.bindAsync(config.endpoint, this.credentials(), (error, port) => (error ? reject(error) : resolve(port)));
      });
    } catch (error) {
      server.forceShutdown();
      throw error;
    }
    this.server = server;
    this.options.logger.info({ endpoint: this.address(), protocol: 'grpc', tls: config.tls !== undefined, mutual_tls: Boolean(config.tls?.client_ca_file), auth: this.bearer ? 'bearer_token' : 'none' }, 'OTLP/gRPC receiver listening');
  }

  address(): string {
    const { host } = splitHostPort(this.options.config.endpoint);
    return joinHostPort(host, this.server ? this.port : splitHostPort(this.options.config.endpoint).port);
  }

  /** Stops taking calls and waits for those in progress, closing their connections after a grace period. */
  async shutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, SHUTDOWN_GRACE_MS);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private credentials(): ServerCredentials {
    const tls = this.options.config.tls;
    if (!tls) return ServerCredentials.createInsecure();
    return new GrpcServerTlsCredentials(readServerTls(tls));
  }

  private async export(signal: TelemetrySignal, call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>): Promise<void> {
    const reservation = this.inflight.reservation();
    try {
      this.authorize(call.metadata);
      this.options.admission.check();
      // grpc-js has read the message already; the budget bounds how many wait for the pipeline.
      if (!reservation.cover(call.request.length)) {
        throw new GrpcRefusal(GrpcStatus.UNAVAILABLE, this.inflight.exhaustedMessage(), 'unavailable', 1);
      }
      const outcome = await ingest(this.options.pool, this.options.metrics, this.options.consumers[signal]!, signal, { kind: 'otlp_protobuf', bytes: call.request }, {
        receiver: this.options.id,
        peerAddress: peerAddress(call.getPeer()),
      });
      callback(null, Buffer.from(encodeResponse(signal, outcome.rejected, outcome.rejectedMessage)));
    } catch (error) {
      const refusal = error instanceof GrpcRefusal ? error : toGrpcRefusal(error);
      this.options.refusals.record('grpc', refusal.reason, refusal.details);
      callback(refusal);
    } finally {
      reservation.release();
    }
  }

  private authorize(metadata: Metadata): void {
    if (!this.bearer) return;
    const values = metadata.get('authorization');
    const value = typeof values[0] === 'string' ? values[0] : undefined;
    if (this.bearer.accepts(value)) return;
    const message = value ? 'the bearer token is not valid' : 'missing the authorization metadata with a bearer token';
    throw new GrpcRefusal(GrpcStatus.UNAUTHENTICATED, message, 'unauthenticated');
  }
}

function toGrpcRefusal(error: unknown): GrpcRefusal {
  const failure = classifyExportError(error);
  if (failure.kind === 'invalid') return new GrpcRefusal(GrpcStatus.INVALID_ARGUMENT, failure.message, failure.kind);
  return new GrpcRefusal(GrpcStatus.UNAVAILABLE, failure.message, failure.kind, failure.retryAfterSeconds);
}

/** Takes the address out of grpc-js's peer string, `address:port` with IPv6 addresses unbracketed. */
function peerAddress(peer: string): string | undefined {
  const colon = peer.lastIndexOf(':');
  if (colon <= 0) return undefined;
  return normalizeAddress(peer.slice(0, colon).replace(/^\[|\]$/g, ''));
}
