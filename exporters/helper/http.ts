import { request as httpRequest, Agent as HttpAgent, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { boolean, object, string } from '../../core/config/schema.js';
import { SendError, statusError } from './errors.js';

/** TLS settings of an HTTP or TCP client, as the Collector names them. */
export interface ClientTlsConfig {
  /** PEM file of the CA that signed the server's certificate; empty uses the system roots. */
  ca_file: string;
  /** PEM files of the client certificate and key, for mutual TLS. */
  cert_file: string;
  key_file: string;
  /** Skips verification of the server certificate. Never use in production. */
  insecure_skip_verify: boolean;
  /** Overrides the name checked against the server certificate. */
  server_name_override: string;
}

export function defaultClientTls(): ClientTlsConfig {
  return { ca_file: '', cert_file: '', key_file: '', insecure_skip_verify: false, server_name_override: '' };
}

export const clientTlsSchema = object({
  ca_file: string({ allowEmpty: true }),
  cert_file: string({ allowEmpty: true }),
  key_file: string({ allowEmpty: true }),
  insecure_skip_verify: boolean(),
  server_name_override: string({ allowEmpty: true }),
});

/** Compresses a request body when `compression` is `gzip`; returns the body and the header to send with it. */
export function compressBody(body: string | Buffer, compression: 'gzip' | 'none'): { body: Buffer | string; headers: Record<string, string> } {
  if (compression === 'none') return { body, headers: {} };
  return { body: gzipSync(body), headers: { 'content-encoding': 'gzip' } };
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface HttpClientOptions {
  tls?: ClientTlsConfig;
  /** Upper bound on a response body that is read; the rest is discarded. */
  maxResponseBytes?: number;
}

/**
 * A keep-alive HTTP(S) client for exporters. Every request takes an AbortSignal, which the
 * exporter helper fires when the per-attempt timeout passes.
 */
export class HttpClient {
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
  private readonly httpsAgent: HttpsAgent;
  private readonly maxResponseBytes: number;

  constructor(options: HttpClientOptions = {}) {
    const tls = options.tls;
    this.httpsAgent = new HttpsAgent({
      keepAlive: true,
      maxSockets: 16,
      ca: tls?.ca_file ? readFileSync(tls.ca_file) : undefined,
      cert: tls?.cert_file ? readFileSync(tls.cert_file) : undefined,
      key: tls?.key_file ? readFileSync(tls.key_file) : undefined,
      rejectUnauthorized: !tls?.insecure_skip_verify,
      servername: tls?.server_name_override || undefined,
    });
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024;
  }

  /** Sends a request and returns the response, whatever its status. Network failures raise a retryable SendError. */
  request(url: string, options: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string; signal: AbortSignal }): Promise<HttpResponse> {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const send = secure ? httpsRequest : httpRequest;
    // Each request listens on its own signal, linked to the caller's and unlinked when it ends, so
    // one attempt that sends many requests in a row never piles listeners onto the caller's signal.
    const own = new AbortController();
    const forward = () => own.abort(options.signal.reason);
    if (options.signal.aborted) forward();
    else options.signal.addEventListener('abort', forward, { once: true });
    const unlink = () => options.signal.removeEventListener('abort', forward);
    return new Promise<HttpResponse>((resolve, reject) => {
      const request = send(target, {
        method: options.method ?? 'POST',
        headers: options.headers,
        agent: secure ? this.httpsAgent : this.httpAgent,
        signal: own.signal,
      }, (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < this.maxResponseBytes) chunks.push(chunk);
          size += chunk.length;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', (error) => reject(networkError(error, own.signal)));
      });
      request.on('error', (error) => reject(networkError(error, own.signal)));
      request.end(options.body);
    }).finally(unlink);
  }

  /** Sends a request and raises a SendError unless the status is 2xx. */
  async send(url: string, options: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string; signal: AbortSignal }): Promise<HttpResponse> {
    const response = await this.request(url, options);
    if (response.status < 200 || response.status > 299) {
      throw statusError(response.status, response.body.toString('utf8'), response.headers['retry-after']);
    }
    return response;
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

function networkError(error: Error, signal: AbortSignal): SendError {
  if (signal.aborted) return new SendError(`timed out: ${String(signal.reason instanceof Error ? signal.reason.message : signal.reason ?? 'aborted')}`, { retryable: true, cause: error });
  return new SendError(error.message, { retryable: true, cause: error });
}
