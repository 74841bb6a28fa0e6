import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDirectory } from '../../helpers/tmp.js';
import { httpSend, InProcessWatchpost } from '../../helpers/otlp.js';
import { span, tracesProtobuf } from './payloads.js';
import { InflightBudget } from '../../../receivers/otlp/inflight.js';

const PROTOBUF = { 'content-type': 'application/x-protobuf' };

/** Opens a request that declares `length` body bytes and sends only the headers. */
async function openRequest(endpoint: string, length: number): Promise<Socket> {
  const [host, port] = endpoint.split(/:(?=\d+$)/);
  const socket = connect(Number(port), host);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(`POST /v1/traces HTTP/1.1\r\nHost: ${endpoint}\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${length}\r\n\r\n`);
  return socket;
}

describe('OTLP/HTTP bodies in flight', () => {
  const directory = tempDirectory();
  let watchpost: InProcessWatchpost | undefined;
  afterAll(async () => {
    await watchpost?.service.shutdown();
    directory.cleanup();
  });

  it('answers 503 past max_inflight_bytes and accepts again once bodies are released', async () => {
    watchpost = await InProcessWatchpost.start(`
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0, max_request_body_size: 65536, max_inflight_bytes: 100000 }
exporters:
  debug: { verbosity: basic }
service:
  worker_pool: { threads: 1 }
  admin: { endpoint: 127.0.0.1:0 }
  storage: { directory: ${join(directory.path, 'data')} }
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
`);
    const endpoint = watchpost.endpoint('http');
    const base = `http://${endpoint}`;
    const unfinished = await openRequest(endpoint, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 100));

    const refused = await httpSend(`${base}/v1/traces`, { headers: PROTOBUF, body: Buffer.alloc(60_000) });
    const small = await httpSend(`${base}/v1/traces`, { headers: PROTOBUF, body: tracesProtobuf([span('fits beside the unfinished body')]) });

    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(small.status).toBe(200);

    unfinished.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The same 60,000-byte body that was refused is read now; what it decodes to does not matter here.
    const large = await httpSend(`${base}/v1/traces`, { headers: PROTOBUF, body: Buffer.alloc(60_000) });
    expect(large.status).not.toBe(503);
    expect(watchpost.metric('watchpost_receiver_refused_requests_total', { receiver: 'otlp', protocol: 'http', reason: 'unavailable' })).toBe(1);
  });

  it('rejects a budget below the body limit', async () => {
    await expect(InProcessWatchpost.start(`
receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0, max_request_body_size: 65536, max_inflight_bytes: 1000 } } }
exporters:
  debug: {}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
`)).rejects.toThrow(/max_inflight_bytes \(1000\) must be at least max_request_body_size \(65536\)/);
  });

  it('rejects a gRPC budget below the message limit', async () => {
    await expect(InProcessWatchpost.start(`
receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:0, max_recv_msg_size_mib: 4, max_inflight_bytes: 1048576 } } }
exporters:
  debug: {}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
`)).rejects.toThrow(/max_inflight_bytes \(1048576\) must be at least max_recv_msg_size_mib in bytes \(4194304\)/);
  });
});

describe('in-flight byte budget', () => {
  it('grows reservations up to the limit and gives bytes back on release', () => {
    const budget = new InflightBudget(100);
    const first = budget.reservation();
    const second = budget.reservation();

    expect(first.cover(60)).toBe(true);
    expect(first.cover(80)).toBe(true);
    expect(budget.bytes).toBe(80);
    expect(second.cover(30)).toBe(false);
    expect(budget.bytes).toBe(80);
    expect(second.cover(20)).toBe(true);

    first.release();
    first.release();
    expect(budget.bytes).toBe(20);
    expect(second.cover(100)).toBe(true);
    second.release();
    expect(budget.bytes).toBe(0);
  });
});
