import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Writable } from 'node:stream';
import { ChannelCredentials, Client, Metadata, type ChannelOptions, type ServiceError } from '@grpc/grpc-js';
import { builtinRegistry } from '../../core/cli/builtins.js';
import { loadConfigText } from '../../core/config/load.js';
import { createLogger } from '../../core/logger.js';
import { Service } from '../../core/service.js';
import { EXPORT_TYPE_NAMES } from '../../core/otlp/codec.js';
import type { TelemetrySignal } from '../../core/data/signal.js';
import type { LogLine } from './daemon.js';

/**
 * Watchpost running in the test process: the real service with its worker pool and sockets,
 * started from a YAML config. Configs should listen on port 0; `endpoint` reads the bound
 * address from the receiver's "listening" log line.
 */
export class InProcessWatchpost {
  readonly logs: LogLine[] = [];
  /** Every log line as written, for checks that a secret never appears. */
  rawLogs = '';

  private constructor(readonly service: Service) {}

  static async start(yaml: string, env: NodeJS.ProcessEnv = process.env): Promise<InProcessWatchpost> {
    const config = loadConfigText(yaml, 'test.yaml', builtinRegistry(), env);
    let instance: InProcessWatchpost | undefined;
    const pending: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        const text = chunk.toString('utf8');
        if (instance) instance.capture(text);
        else pending.push(text);
        done();
      },
    });
    const service = new Service(config, createLogger({ level: 'info', destination }));
    instance = new InProcessWatchpost(service);
    for (const text of pending) instance.capture(text);
    await service.start();
    return instance;
  }

  private capture(text: string): void {
    this.rawLogs += text;
    for (const line of text.split('\n').filter(Boolean)) {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.logs.push({ level: 0, msg: line });
      }
    }
  }

  /** Returns the bound address of a receiver's listener, such as `127.0.0.1:43117`. */
  endpoint(protocol: 'grpc' | 'http', id = 'otlp'): string {
    const line = this.logs.find((entry) => entry.id === id && entry.protocol === protocol && entry.msg.endsWith('receiver listening'));
    if (!line) throw new Error(`receiver ${id} logged no ${protocol} endpoint`);
    return line.endpoint as string;
  }

  /** Returns the value of one series of the self-metrics, 0 when absent. */
  metric(name: string, labels: Record<string, string>): number {
    const text = this.service.registry.render();
    const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`)) continue;
      const labelText = line.slice(name.length + 1, line.indexOf('}'));
      const present = labelText.split(',');
      if (wanted.every((pair) => present.includes(pair)) && present.length === wanted.length) return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return 0;
  }

  stop(): Promise<void> {
    return this.service.shutdown();
  }
}

export interface GrpcAnswer {
  code: number;
  details: string;
  response?: Buffer;
  trailers?: Metadata;
}

export interface GrpcCallOptions {
  credentials?: ChannelCredentials;
  metadata?: Record<string, string>;
  channelOptions?: ChannelOptions;
}

/** Calls an OTLP service's Export with raw request bytes and returns the status instead of throwing. */
export function grpcExport(address: string, signal: TelemetrySignal, body: Uint8Array, options: GrpcCallOptions = {}): Promise<GrpcAnswer> {
  const client = new Client(address, options.credentials ?? ChannelCredentials.createInsecure(), options.channelOptions ?? {});
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(options.metadata ?? {})) metadata.set(name, value);
  const identity = (value: Buffer) => value;
  return new Promise<GrpcAnswer>((resolve) => {
    client.makeUnaryRequest(`/${EXPORT_TYPE_NAMES[signal].service}/Export`, identity, identity, Buffer.from(body), metadata, { deadline: Date.now() + 20_000 }, (error: ServiceError | null, response?: Buffer) => {
      client.close();
      if (error) resolve({ code: error.code, details: error.details, trailers: error.metadata });
      else resolve({ code: 0, details: '', response });
    });
  });
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** POSTs (or sends another method) to a URL and returns the response whatever its status. */
export function httpSend(url: string, options: { method?: string; headers?: Record<string, string | number>; body?: Uint8Array | string; tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; maxVersion?: 'TLSv1.2' | 'TLSv1.3' } } = {}): Promise<HttpAnswer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const request = send(target, { method: options.method ?? 'POST', headers: options.headers, agent: false, ...options.tls }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(options.body);
  });
}
