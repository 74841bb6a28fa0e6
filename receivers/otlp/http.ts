import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createGunzip, createInflate, type Gunzip, type Inflate } from 'node:zlib';
import type { TelemetrySignal } from '../../core/data/signal.js';
import type { IngestPayload } from '../../core/pool/pool.js';
import { encodeResponse, encodeRpcStatus } from '../../core/otlp/codec.js';
import { exportResponseToJson } from '../../core/otlp/json.js';
import { normalizeAddress, splitHostPort } from '../../core/net.js';
import { ingest } from '../helper/ingest.js';
import { bearerTokenCheck, type BearerTokenCheck } from './auth.js';
import type { OtlpHttpConfig } from './config.js';
import { classifyExportError, type ExportFailure } from './refusal.js';
import { readServerTls } from './tls.js';
import { RPC_CODE, type OtlpServerOptions } from './shared.js';
import { InflightBudget, type Reservation } from './inflight.js';

type Encoding = 'protobuf' | 'json';

/** An error response decided before the request reached the pipelines, with the reason it is counted under. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly rpcCode: number,
    readonly reason: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** HTTP status and google.rpc.Code of each kind of failed export. */
const FAILURE_ANSWERS: Record<ExportFailure['kind'], { status: number; rpcCode: number }> = {
  invalid: { status: 400, rpcCode: RPC_CODE.INVALID_ARGUMENT },
  throttled: { status: 429, rpcCode: RPC_CODE.RESOURCE_EXHAUSTED },
  unavailable: { status: 503, rpcCode: RPC_CODE.UNAVAILABLE },
};

/**
 * OTLP/HTTP: `POST` protobuf or JSON export requests to the signal paths, over plain HTTP or
 * TLS. Responses follow the OTLP specification, each in the request's encoding:
 * - 200 with an empty response on full success, or with `partial_success` and the count of
 *   rejected items when only some items were invalid;
 * - 400 with a google.rpc.Status naming the problem for bad data (the client must not retry);
 * - 401 without the configured bearer token, 404 for another path, 405 for a method other
 *   than POST, 413 for a body over the limit after decompression, 415 for an unsupported
 *   content type or encoding;
 * - 429 when a queue is full and 503 when the daemon is short of memory or stopping, both with
 *   Retry-After, so the client retries later.
 */
export class OtlpHttpServer {
  private server: Server | undefined;
  private readonly routes: Map<string, TelemetrySignal>;
  private readonly inflight: InflightBudget;
  private readonly bearer: BearerTokenCheck | undefined;

  constructor(private readonly options: OtlpServerOptions & { config: OtlpHttpConfig }) {
    const config = options.config;
    this.routes = new Map([
      [config.traces_url_path, 'traces'],
      [config.logs_url_path, 'logs'],
      [config.metrics_url_path, 'metrics'],
    ]);
    this.bearer = bearerTokenCheck(config.auth);
    this.inflight = new InflightBudget(config.max_inflight_bytes);
  }

  async start(): Promise<void> {
    const { host, port } = splitHostPort(this.options.config.endpoint);
    const handler = (request: IncomingMessage, response: ServerResponse) => void this.handle(request, response);
    const tls = this.options.config.tls;
    let server: Server;
    if (tls) {
      const { cert, key, ca, minVersion } = readServerTls(tls);
      // With a client CA, the handshake fails for a client without a certificate signed by it.
      server = createTlsServer({ cert, key, ca, minVersion, requestCert: ca !== undefined, rejectUnauthorized: ca !== undefined }, handler);
    } else {
      server = createServer(handler);
    }
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.options.logger.info({ endpoint: this.address(), protocol: 'http', tls: tls !== undefined, mutual_tls: Boolean(tls?.client_ca_file), auth: this.bearer ? 'bearer_token' : 'none' }, 'OTLP/HTTP receiver listening');
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
    const bodyEncoding = contentEncoding(request.headers['content-type']);
    const encoding: Encoding = bodyEncoding ?? 'json';
    const reservation = this.inflight.reservation();
    try {
      const signal = this.route(request);
      this.authorize(request);
      // Refuse before reading the body, while refusing is still cheap.
      this.options.admission.check();
      if (!bodyEncoding) {
        throw new HttpError(415, RPC_CODE.INVALID_ARGUMENT, 'unsupported_media_type', `unsupported content type ${JSON.stringify(request.headers['content-type'] ?? '')}; use application/x-protobuf or application/json`);
      }
      const body = await readBody(request, this.options.config.max_request_body_size, reservation);
      const payload: IngestPayload = bodyEncoding === 'protobuf'
        ? { kind: 'otlp_protobuf', bytes: body }
        : { kind: 'otlp_json', text: body.toString('utf8') };
      const outcome = await ingest(this.options.pool, this.options.metrics, this.options.consumers[signal]!, signal, payload, {
        receiver: this.options.id,
        peerAddress: normalizeAddress(request.socket.remoteAddress),
      });
      const answer = encoding === 'protobuf'
        ? encodeResponse(signal, outcome.rejected, outcome.rejectedMessage)
        : Buffer.from(JSON.stringify(exportResponseToJson(signal, outcome.rejected, outcome.rejectedMessage)));
      this.respond(response, 200, encoding, answer);
    } catch (error) {
      this.fail(request, response, encoding, error);
    } finally {
      reservation.release();
    }
  }

  private route(request: IncomingMessage): TelemetrySignal {
    const path = (request.url ?? '/').split('?')[0];
    const signal = this.routes.get(path);
    if (!signal || !this.options.consumers[signal]) {
      throw new HttpError(404, RPC_CODE.UNIMPLEMENTED, 'not_found', `no OTLP endpoint at ${path}${signal ? `: no pipeline takes ${signal} from this receiver` : ''}`);
    }
    if (request.method !== 'POST') {
      throw new HttpError(405, RPC_CODE.UNIMPLEMENTED, 'method_not_allowed', `method ${request.method} is not allowed; use POST`, { allow: 'POST' });
    }
    return signal;
  }

  private authorize(request: IncomingMessage): void {
    if (!this.bearer || this.bearer.accepts(request.headers.authorization)) return;
    const message = request.headers.authorization ? 'the bearer token is not valid' : 'missing the Authorization header with a bearer token';
    throw new HttpError(401, RPC_CODE.UNAUTHENTICATED, 'unauthenticated', message, { 'www-authenticate': 'Bearer' });
  }

  private fail(request: IncomingMessage, response: ServerResponse, encoding: Encoding, error: unknown): void {
    const httpError = error instanceof HttpError ? error : toHttpError(error);
    this.options.refusals.record('http', httpError.reason, httpError.message);
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
    if (response.headersSent) return;
    response.writeHead(status, {
      'content-type': encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json',
      'content-length': body.length,
    });
    response.end(body);
  }
}

function toHttpError(error: unknown): HttpError {
  const failure = classifyExportError(error);
  const answer = FAILURE_ANSWERS[failure.kind];
  const headers: Record<string, string> = failure.kind === 'invalid' ? {} : { 'retry-after': String(failure.retryAfterSeconds) };
  return new HttpError(answer.status, answer.rpcCode, failure.kind, failure.message, headers);
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
function readBody(request: IncomingMessage, limit: number, reservation: Reservation): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  // A declared length is reserved whole before reading, so concurrent large requests are rejected
  // while that is still cheap. A compressed or chunked body is reserved as it arrives.
  if (declared > 0 && !reservation.cover(declared)) return Promise.reject(busy(reservation));
  const contentEncodingHeader = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
  let stream: IncomingMessage | Gunzip | Inflate = request;
  if (contentEncodingHeader === 'gzip') stream = request.pipe(createGunzip());
  else if (contentEncodingHeader === 'deflate') stream = request.pipe(createInflate());
  else if (contentEncodingHeader !== 'identity') {
    return Promise.reject(new HttpError(415, RPC_CODE.INVALID_ARGUMENT, 'unsupported_media_type', `unsupported content encoding ${JSON.stringify(contentEncodingHeader)}; use gzip, deflate or none`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      const overBudget = size <= limit && !reservation.cover(size);
      if (size > limit || overBudget) {
        if (stream === request) {
          // Destroying the request would close the socket before the 413 is written. Unread
          // bytes are discarded instead; the response closes the connection.
          request.removeAllListeners('data');
          request.pause();
        } else {
          stream.destroy();
          request.unpipe();
        }
        reject(overBudget ? busy(reservation) : tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', (error: Error) => reject(new HttpError(400, RPC_CODE.INVALID_ARGUMENT, 'invalid', `invalid ${contentEncodingHeader} body: ${error.message}`)));
    request.on('aborted', () => reject(new HttpError(400, RPC_CODE.INVALID_ARGUMENT, 'invalid', 'the client closed the connection before the body ended')));
  });
}

function busy(reservation: Reservation): HttpError {
  return new HttpError(503, RPC_CODE.UNAVAILABLE, 'unavailable', reservation.budget.exhaustedMessage(), { 'retry-after': '1' });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, RPC_CODE.RESOURCE_EXHAUSTED, 'too_large', `request body is larger than the limit of ${limit} bytes (after decompression)`);
}
