import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib';
import type { PipelineInput } from '../../core/component.js';
import type { TelemetrySignal } from '../../core/data/signal.js';
import type { Logger } from '../../core/logger.js';
import type { WorkerPool, IngestPayload } from '../../core/pool/pool.js';
import type { PipelineMetrics } from '../../core/telemetry/metrics.js';
import { encodeResponse, encodeRpcStatus } from '../../core/otlp/codec.js';
import { errorMessage, isRetryable } from '../../core/errors.js';
import { normalizeAddress, splitHostPort } from '../../core/net.js';
import { ingest } from '../helper/ingest.js';
import type { Admission } from '../../core/admission.js';
import type { OtlpHttpConfig } from './config.js';

/** google.rpc.Code values used in error bodies. */
const RPC_INVALID_ARGUMENT = 3;
const RPC_UNAVAILABLE = 14;
const RPC_UNIMPLEMENTED = 12;
const RPC_RESOURCE_EXHAUSTED = 8;

type Encoding = 'protobuf' | 'json';

class HttpError extends Error {
  constructor(readonly status: number, readonly rpcCode: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

export interface OtlpHttpServerOptions {
  id: string;
  config: OtlpHttpConfig;
  consumers: Partial<Record<TelemetrySignal, PipelineInput>>;
  pool: WorkerPool;
  metrics: PipelineMetrics;
  logger: Logger;
  admission: Admission;
}

/**
 * OTLP/HTTP: `POST` protobuf or JSON export requests to the signal paths. Errors follow the OTLP
 * specification: 400 with a google.rpc.Status body for bad data (the client must not retry),
 * 503 with Retry-After when refusing for load (the client retries), 413 for a body over the
 * limit, 415 for an unsupported content type and 405 for a method other than POST. Every
 * response uses the request's encoding.
 */
export class OtlpHttpServer {
  private server: Server | undefined;
  private readonly routes: Map<string, TelemetrySignal>;

  constructor(private readonly options: OtlpHttpServerOptions) {
    const config = options.config;
    this.routes = new Map([
      [config.traces_url_path, 'traces'],
      [config.logs_url_path, 'logs'],
      [config.metrics_url_path, 'metrics'],
    ]);
  }

  async start(): Promise<void> {
    const { host, port } = splitHostPort(this.options.config.endpoint);
    const server = createServer((request, response) => void this.handle(request, response));
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.options.logger.info({ endpoint: this.address() }, 'OTLP/HTTP receiver listening');
  }

  address(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) return this.options.config.endpoint;
    return address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
  }

  /** Stops accepting connections and waits for requests in progress. */
  async shutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const encoding: Encoding = contentEncoding(request.headers['content-type']) ?? 'json';
    try {
      const signal = this.route(request);
      // Refuse before reading the body, while refusing is still cheap.
      this.options.admission.check();
      const bodyEncoding = contentEncoding(request.headers['content-type']);
      if (!bodyEncoding) {
        throw new HttpError(415, RPC_INVALID_ARGUMENT, `unsupported content type ${JSON.stringify(request.headers['content-type'] ?? '')}; use application/x-protobuf or application/json`);
      }
      const body = await readBody(request, this.options.config.max_request_body_size);
      const payload: IngestPayload = bodyEncoding === 'protobuf'
        ? { kind: 'otlp_protobuf', bytes: body }
        : { kind: 'otlp_json', text: body.toString('utf8') };
      const input = this.options.consumers[signal] as PipelineInput;
      await ingest(this.options.pool, this.options.metrics, input, signal, payload, {
        receiver: this.options.id,
        peerAddress: normalizeAddress(request.socket.remoteAddress),
      });
      this.respond(response, 200, encoding, encodeResponse(signal, 0));
    } catch (error) {
      this.fail(request, response, encoding, error);
    }
  }

  private route(request: IncomingMessage): TelemetrySignal {
    const path = (request.url ?? '/').split('?')[0];
    const signal = this.routes.get(path);
    if (!signal || !this.options.consumers[signal]) {
      throw new HttpError(404, RPC_UNIMPLEMENTED, `no OTLP endpoint at ${path}${signal ? `: no pipeline takes ${signal} from this receiver` : ''}`);
    }
    if (request.method !== 'POST') throw new HttpError(405, RPC_UNIMPLEMENTED, `method ${request.method} is not allowed; use POST`, { allow: 'POST' });
    return signal;
  }

  private fail(request: IncomingMessage, response: ServerResponse, encoding: Encoding, error: unknown): void {
    let httpError: HttpError;
    if (error instanceof HttpError) httpError = error;
    else if (isRetryable(error)) {
      const retryAfter = (error as { retryAfterSeconds?: number }).retryAfterSeconds ?? 1;
      httpError = new HttpError(503, RPC_UNAVAILABLE, errorMessage(error), { 'retry-after': String(retryAfter) });
    }
    else httpError = new HttpError(400, RPC_INVALID_ARGUMENT, errorMessage(error));
    if (httpError.status >= 500) this.options.logger.debug({ err: errorMessage(error) }, 'refused a request for load');
    // A body that was not read to its end leaves the connection unusable for the next request.
    const unread = !request.readableEnded;
    if (unread) response.setHeader('connection', 'close');
    const body = encoding === 'protobuf'
      ? encodeRpcStatus(httpError.rpcCode, httpError.message)
      : Buffer.from(JSON.stringify({ code: httpError.rpcCode, message: httpError.message }));
    for (const [name, value] of Object.entries(httpError.headers)) response.setHeader(name, value);
    this.respond(response, httpError.status, encoding, body);
    if (unread) request.resume();
  }

  private respond(response: ServerResponse, status: number, encoding: Encoding, body: Uint8Array): void {
    if (encoding === 'json' && status === 200 && body.length === 0) body = Buffer.from('{}');
    response.writeHead(status, {
      'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json',
      'content-length': body.length,
    });
    response.end(body);
  }
}

function contentEncoding(contentType: string | undefined): Encoding | undefined {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

/**
 * Reads the body, decompressing gzip or deflate, and stops at `limit` bytes of decompressed
 * data, so a small compressed body cannot expand without bound.
 */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  const contentEncodingHeader = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
  let stream: IncomingMessage | Gunzip | Inflate = request;
  if (contentEncodingHeader === 'gzip') stream = request.pipe(createGunzip());
  else if (contentEncodingHeader === 'deflate') stream = request.pipe(createInflate());
  else if (contentEncodingHeader !== 'identity') {
    return Promise.reject(new HttpError(415, RPC_INVALID_ARGUMENT, `unsupported content encoding ${JSON.stringify(contentEncodingHeader)}; use gzip, deflate or none`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stream.destroy();
        if (stream !== request) request.unpipe();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', (error: Error) => reject(new HttpError(400, RPC_INVALID_ARGUMENT, `invalid ${contentEncodingHeader} body: ${error.message}`)));
    request.on('aborted', () => reject(new HttpError(400, RPC_INVALID_ARGUMENT, 'the client closed the connection before the body ended')));
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, RPC_RESOURCE_EXHAUSTED, `request body is larger than the limit of ${limit} bytes (after decompression)`);
}
