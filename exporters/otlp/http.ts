import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { TelemetrySignal } from '../../core/data/signal.js';
import { decodeResponse, decodeRpcStatus } from '../../core/otlp/codec.js';
import { SendError, parseRetryAfter } from '../helper/errors.js';
import { HttpClient, type HttpResponse } from '../helper/http.js';
import type { OtlpExporterConfig } from './config.js';
import type { ExportAnswer, OtlpTransport } from './transport.js';

const gzipAsync = promisify(gzip);

/** Statuses the OTLP/HTTP specification lets a client retry; every other failure is permanent. */
const RETRYABLE_STATUSES = new Set([429, 502, 503, 504]);

const SIGNAL_PATHS: Record<TelemetrySignal, string> = { traces: '/v1/traces', logs: '/v1/logs', metrics: '/v1/metrics' };

/** OTLP/HTTP with protobuf bodies, over a keep-alive HTTP(S) client. */
export class HttpTransport implements OtlpTransport {
  private readonly client: HttpClient;
  private readonly urls: Record<TelemetrySignal, string>;
  private readonly headers: Record<string, string>;
  private readonly gzip: boolean;

  constructor(config: OtlpExporterConfig) {
    this.client = new HttpClient({ tls: config.tls });
    this.urls = {
      traces: config.traces_endpoint || signalUrl(config.endpoint, 'traces'),
      logs: config.logs_endpoint || signalUrl(config.endpoint, 'logs'),
      metrics: config.metrics_endpoint || signalUrl(config.endpoint, 'metrics'),
    };
    this.gzip = config.compression === 'gzip';
    this.headers = {
      ...lowercaseKeys(config.headers),
      'content-type': 'application/x-protobuf',
      'user-agent': 'watchpost',
      ...(this.gzip ? { 'content-encoding': 'gzip' } : {}),
    };
  }

  async send(signal: TelemetrySignal, request: Uint8Array, abort: AbortSignal): Promise<ExportAnswer> {
    const body = this.gzip ? await gzipAsync(request) : request;
    const response = await this.client.request(this.urls[signal], { method: 'POST', headers: this.headers, body, signal: abort });
    if (response.status >= 200 && response.status <= 299) return answerOf(signal, response);
    throw statusError(response);
  }

  close(): void {
    this.client.close();
  }
}

/** Appends the signal's path to a base URL, keeping a path prefix the base may have. */
function signalUrl(base: string, signal: TelemetrySignal): string {
  return base.replace(/\/+$/, '') + SIGNAL_PATHS[signal];
}

function lowercaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function answerOf(signal: TelemetrySignal, response: HttpResponse): ExportAnswer {
  if (response.body.length === 0) return { rejected: 0, errorMessage: '' };
  try {
    return decodeResponse(signal, response.body);
  } catch {
    // The export itself succeeded; an unreadable response only loses the partial-success detail.
    return { rejected: 0, errorMessage: '' };
  }
}

function statusError(response: HttpResponse): SendError {
  const retryable = RETRYABLE_STATUSES.has(response.status);
  return new SendError(`server responded with HTTP ${response.status}${describeBody(response)}`, {
    retryable,
    retryAfterMs: retryable ? parseRetryAfter(response.headers['retry-after']) : undefined,
    status: response.status,
  });
}

/** Returns the message of a google.rpc.Status body, or the start of a text body, after a colon. */
function describeBody(response: HttpResponse): string {
  if (response.body.length === 0) return '';
  const type = String(response.headers['content-type'] ?? '');
  if (type.includes('protobuf')) {
    try {
      const status = decodeRpcStatus(response.body);
      return status.message ? `: ${status.message}` : '';
    } catch {
      return '';
    }
  }
  const text = response.body.toString('utf8');
  return `: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`;
}
