import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRpcStatus } from '../../../core/otlp/codec.js';
import { HttpSink } from '../../helpers/http-sink.js';
import { grpcExport, httpSend, InProcessWatchpost } from '../../helpers/otlp.js';
import { tempDirectory } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { span, tracesProtobuf } from './payloads.js';

const PROTOBUF = { 'content-type': 'application/x-protobuf' };

describe('OTLP receivers behind a full exporter queue', () => {
  const directory = tempDirectory();
  const held: ServerResponse[] = [];
  let sink: HttpSink;
  let watchpost: InProcessWatchpost;
  let base: string;

  beforeAll(async () => {
    sink = await new HttpSink().start();
    // The backend takes requests and never responds, so the one queue slot stays full.
    sink.responder = (_request, response) => held.push(response);
    watchpost = await InProcessWatchpost.start(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }
exporters:
  otlp:
    protocol: http/protobuf
    endpoint: ${sink.url}
    timeout: 60s
    sending_queue: { queue_size: 1, num_consumers: 1 }
service:
  worker_pool: { threads: 1 }
  admin: { endpoint: 127.0.0.1:0 }
  storage: { directory: ${join(directory.path, 'data')} }
  shutdown_timeout: 2s
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp] }
`);
    base = `http://${watchpost.endpoint('http')}`;
  });

  afterAll(async () => {
    for (const response of held) response.end();
    await watchpost?.stop();
    await sink?.stop();
    directory.cleanup();
  });

  it('answers 429 with Retry-After and gRPC UNAVAILABLE once the queue is full', async () => {
    const first = await httpSend(`${base}/v1/traces`, { headers: PROTOBUF, body: tracesProtobuf([span('in flight')]) });
    await waitFor(() => sink.requests.length === 1, 10_000, 'the exporter to send the first batch');
    const second = await httpSend(`${base}/v1/traces`, { headers: PROTOBUF, body: tracesProtobuf([span('queued')]) });

    const third = await httpSend(`${base}/v1/traces`, { headers: PROTOBUF, body: tracesProtobuf([span('refused')]) });
    const grpc = await grpcExport(watchpost.endpoint('grpc'), 'traces', tracesProtobuf([span('refused over grpc')]));

    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('1');
    expect(decodeRpcStatus(third.body)).toMatchObject({ code: 8, message: 'exporter otlp: sending queue is full (1 batches)' });
    expect(grpc.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(decodeRpcStatus(grpc.trailers?.get('grpc-status-details-bin')[0] as Buffer).retryDelayMs).toBe(1000);
    expect(watchpost.metric('watchpost_receiver_refused_items_total', { receiver: 'otlp', signal: 'traces', reason: 'downstream_busy' })).toBe(2);
    expect(watchpost.metric('watchpost_receiver_refused_requests_total', { receiver: 'otlp', protocol: 'http', reason: 'throttled' })).toBe(1);
  });
});
