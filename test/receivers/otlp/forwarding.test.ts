import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRequest, type ExportTraceServiceRequest } from '../../../core/otlp/codec.js';
import { anyValueToJs } from '../../../core/otlp/attributes.js';
import { HttpSink } from '../../helpers/http-sink.js';
import { grpcExport, httpSend, InProcessWatchpost } from '../../helpers/otlp.js';
import { tempDirectory } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';
import { span, tracesProtobuf } from './payloads.js';

/** Field 15 of ExportTraceServiceRequest as a varint: unknown to OTLP, so an encoder would drop it. */
const UNKNOWN_FIELD = Buffer.from([0x78, 0x2a]);

function withUnknownField(bytes: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(bytes), UNKNOWN_FIELD]);
}

describe('forwarding through the daemon', () => {
  const directory = tempDirectory();
  let sink: HttpSink;
  let watchpost: InProcessWatchpost;

  beforeAll(async () => {
    sink = await new HttpSink().start();
    watchpost = await InProcessWatchpost.start(`
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }
  otlp/detected:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
processors:
  detection: {}
exporters:
  otlp/plain:
    protocol: http/protobuf
    traces_endpoint: ${sink.url}/plain
    logs_endpoint: ${sink.url}/plain-logs
    metrics_endpoint: ${sink.url}/plain-metrics
    compression: none
  otlp/detected:
    protocol: http/protobuf
    traces_endpoint: ${sink.url}/detected
    logs_endpoint: ${sink.url}/detected-logs
    metrics_endpoint: ${sink.url}/detected-metrics
    compression: none
  file: { path: ${join(directory.path, 'findings.jsonl')} }
service:
  worker_pool: { threads: 1 }
  admin: { endpoint: 127.0.0.1:0 }
  storage: { directory: ${join(directory.path, 'data')} }
  pipelines:
    traces/plain: { receivers: [otlp], exporters: [otlp/plain] }
    traces/detected: { receivers: [otlp/detected], processors: [detection], exporters: [otlp/detected] }
    findings: { receivers: [detection], exporters: [file] }
`);
  });

  afterAll(async () => {
    await watchpost?.stop();
    await sink?.stop();
    directory.cleanup();
  });

  it('sends the bytes it received over HTTP unchanged', async () => {
    const body = withUnknownField(tracesProtobuf([span('forward me over http')]));

    const answer = await httpSend(`http://${watchpost.endpoint('http')}/v1/traces`, { headers: { 'content-type': 'application/x-protobuf' }, body });

    expect(answer.status).toBe(200);
    const forwarded = await waitFor(() => sink.requests.find((request) => request.url === '/plain' && request.body.includes(Buffer.from('forward me over http'))), 10_000, 'the forwarded request');
    expect(forwarded.body.equals(body)).toBe(true);
  });

  it('sends the bytes it received over gRPC unchanged', async () => {
    const body = withUnknownField(tracesProtobuf([span('forward me over grpc')]));

    const answer = await grpcExport(watchpost.endpoint('grpc'), 'traces', body);

    expect(answer.code).toBe(0);
    const forwarded = await waitFor(() => sink.requests.find((request) => request.url === '/plain' && request.body.includes(Buffer.from('forward me over grpc'))), 10_000, 'the forwarded request');
    expect(forwarded.body.equals(body)).toBe(true);
  });

  it('adds detection marks to the received bytes without encoding them again', async () => {
    const attack = span('GET /search', undefined, '2122232425262728', { 'http.request.method': 'GET', 'url.path': '/search', 'url.query': "q=1' OR '1'='1", 'client.address': '203.0.113.50' });
    const benign = span('GET /home', undefined, '3132333435363738', { 'http.request.method': 'GET', 'url.path': '/home', 'client.address': '203.0.113.51' });
    const body = withUnknownField(tracesProtobuf([benign, attack]));

    const answer = await grpcExport(watchpost.endpoint('grpc', 'otlp/detected'), 'traces', body);

    expect(answer.code).toBe(0);
    const forwarded = await waitFor(() => sink.requests.find((request) => request.url === '/detected'), 10_000, 'the marked request');
    // An encoder drops unknown fields; the splice keeps every byte and only adds the mark.
    expect(forwarded.body.subarray(forwarded.body.length - UNKNOWN_FIELD.length).equals(UNKNOWN_FIELD)).toBe(true);
    expect(forwarded.body.length).toBeGreaterThan(body.length);
    const spans = (decodeRequest('traces', forwarded.body) as ExportTraceServiceRequest).resourceSpans![0].scopeSpans![0].spans!;
    const marks = spans.map((item) => item.attributes?.find((attribute) => attribute.key === 'watchpost.detection.rule_ids'));
    expect(marks[0]).toBeUndefined();
    expect(anyValueToJs(marks[1]?.value)).toEqual(['sqli']);
    expect(spans[1].attributes?.length).toBe(5);
  });
});
