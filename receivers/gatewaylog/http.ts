import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { Logger } from '../../core/logger.js';
import type { Admission } from '../../core/admission.js';
import { errorMessage, isRetryable } from '../../core/errors.js';
import { joinHostPort, splitHostPort } from '../../core/net.js';
import type { GatewayLogHttpConfig } from './config.js';

/** The handler of pushed entries: the entries of one request and the sender's address. */
export type PushHandler = (lines: string[], peerAddress: string | undefined) => Promise<{ accepted: number; unparsed: number }>;

export interface PushServerOptions {
  config: GatewayLogHttpConfig;
  format: string;
  handle: PushHandler;
  admission: Admission;
  logger: Logger;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** Content types whose body is one JSON value: an entry, or an array of entries. */
const JSON_TYPES = new Set(['application/json']);
/** Content types whose body contains one entry per line. */
const LINE_TYPES = new Set(['application/x-ndjson', 'application/jsonl', 'application/json-lines', 'text/plain']);

/**
 * The push endpoint: gateways `POST` log entries, as Kong's http-log plugin does (one JSON object,
 * or an array when it batches), or as newline-separated lines of any supported format. It
 * responds 200 with the counts once the pipelines took the entries, and 400 when none of them
 * matched the format. Such entries are still passed on raw, so that nothing is lost. A body over
 * the limit gets 413, another content type 415, and a request while the daemon refuses data 503
 * with Retry-After.
 */
export class PushServer {
  private server: Server | undefined;

  constructor(private readonly options: PushServerOptions) {}

  async start(): Promise<void> {
    const { host, port } = splitHostPort(this.options.config.endpoint);
    const server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.options.logger.info({ endpoint: this.address() }, 'gateway log push endpoint listening');
  }

  address(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    return address ? joinHostPort(address.address, address.port) : this.options.config.endpoint;
  }

  /** Stops accepting connections and waits for the requests in progress. */
  async shutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const path = (request.url ?? '/').split('?')[0];
      if (path !== this.options.config.path) throw new HttpError(404, `no endpoint at ${path}; post to ${this.options.config.path}`);
      if (request.method !== 'POST') throw new HttpError(405, `method ${request.method} is not allowed; use POST`, { allow: 'POST' });
      // Refuse before reading the body, while refusing is cheap.
      this.options.admission.check();
      const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (!JSON_TYPES.has(type) && !LINE_TYPES.has(type)) {
        throw new HttpError(415, `unsupported content type ${JSON.stringify(type)}; use application/json, application/x-ndjson or text/plain`);
      }
      const body = (await readBody(request, this.options.config.max_request_body_size)).toString('utf8');
      const lines = JSON_TYPES.has(type) ? [body.trim()] : body.split('\n').map((line) => line.replace(/\r$/, '')).filter((line) => line.length > 0);
      if (lines.length === 0 || lines[0] === '') throw new HttpError(400, 'the request body is empty');

      const outcome = await this.options.handle(lines, request.socket.remoteAddress);
      if (outcome.accepted > 0 && outcome.unparsed === outcome.accepted) {
        throw new HttpError(400, `no entry matched the ${this.options.format} format; ${outcome.unparsed} passed on unparsed`);
      }
      respond(response, 200, { accepted: outcome.accepted, unparsed: outcome.unparsed });
    } catch (error) {
      this.fail(request, response, error);
    }
  }

  private fail(request: IncomingMessage, response: ServerResponse, error: unknown): void {
    let failure: HttpError;
    if (error instanceof HttpError) {
      failure = error;
    } else if (isRetryable(error)) {
      const retryAfter = (error as { retryAfterSeconds?: number }).retryAfterSeconds ?? 1;
      failure = new HttpError(503, errorMessage(error), { 'retry-after': String(retryAfter) });
    } else {
      failure = new HttpError(400, errorMessage(error));
    }
    if (failure.status >= 500) this.options.logger.debug({ err: errorMessage(error) }, 'rejected a push request for load');
    // A body left unread would break the next request on this connection.
    const unread = !request.readableEnded;
    if (unread) response.setHeader('connection', 'close');
    for (const [name, value] of Object.entries(failure.headers)) response.setHeader(name, value);
    respond(response, failure.status, { error: failure.message });
    if (unread) request.resume();
  }
}

function respond(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** Reads the body, gunzipping it when sent so, and stops at `limit` bytes after decompression. */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, `the request body is larger than ${limit} bytes`);
  if (Number(request.headers['content-length'] ?? 0) > limit) return Promise.reject(tooLarge());
  const encoding = String(request.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') return Promise.reject(new HttpError(415, `unsupported content encoding ${JSON.stringify(encoding)}; use gzip or none`));
  const stream: Readable = encoding === 'gzip' ? request.pipe(createGunzip()) : request;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stream.destroy();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', (error: Error) => reject(new HttpError(400, `invalid ${encoding} body: ${error.message}`)));
    request.on('aborted', () => reject(new HttpError(400, 'the client closed the connection before the body ended')));
  });
}
