import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { Metadata, ServerCredentials, status as GrpcStatus } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Exporter, Host } from '../../../core/component.js';
import { Admission } from '../../../core/admission.js';
import { mergeDefaults } from '../../../core/config/schema.js';
import { FindingsBatch, OtlpBatch } from '../../../core/data/batch.js';
import type { Finding } from '../../../core/data/finding.js';
import type { TelemetrySignal } from '../../../core/data/signal.js';
import { FindingsBus } from '../../../core/findings-bus.js';
import { Storage } from '../../../core/storage/storage.js';
import { createLogger } from '../../../core/logger.js';
import { decodeRequest, encodeResponse, encodeRpcStatus, type ExportLogsServiceRequest, type ExportTraceServiceRequest } from '../../../core/otlp/codec.js';
import { toOtlpJson } from '../../../core/otlp/json.js';
import { MetricsRegistry, PipelineMetrics } from '../../../core/telemetry/metrics.js';
import { createDefaultConfig, type OtlpExporterConfig } from '../../../exporters/otlp/config.js';
import { otlpExporterFactory } from '../../../exporters/otlp/factory.js';
import { FINDING_EVENT_NAME } from '../../../exporters/otlp/findings.js';
import { HttpSink } from '../../helpers/http-sink.js';
import { createTestPki, type TestPki } from '../../helpers/openssl-certs.js';
import { waitFor } from '../../helpers/wait.js';
import { logsProtobuf, metricsProtobuf, span, tracesProtobuf } from '../../receivers/otlp/payloads.js';
import { GrpcSink } from './grpc-sink.js';

interface RunningExporter {
  exporter: Exporter;
  metrics: PipelineMetrics;
  logs: string[];
}

const running: RunningExporter[] = [];

const host: Host = { admin: undefined as never, findingsBus: new FindingsBus(), reportStatus: () => undefined };

async function startExporter(overrides: Record<string, unknown>, storage?: Storage): Promise<RunningExporter> {
  const config = mergeDefaults(createDefaultConfig(), {
    retry_on_failure: { initial_interval: 20, max_interval: 50, max_elapsed_time: 10_000 },
    ...overrides,
  }) as OtlpExporterConfig;
  const logs: string[] = [];
  const destination = new Writable({ write(chunk: Buffer, _encoding, done) { logs.push(chunk.toString()); done(); } });
  const metrics = new PipelineMetrics(new MetricsRegistry());
  const exporter = otlpExporterFactory.create({
    id: 'otlp', config, logger: createLogger({ destination }).child({ component: 'exporter', id: 'otlp' }), metrics,
    pool: undefined as never, storage: storage as never, admission: new Admission(),
  });
  await exporter.start(host);
  const entry = { exporter, metrics, logs };
  running.push(entry);
  return entry;
}

afterEach(async () => {
  for (const entry of running.splice(0)) await entry.exporter.shutdown();
});

/** Returns a traces request with an unknown field appended: valid, but not what an encoder would write. */
function unusualTracesBytes(): Buffer {
  return Buffer.concat([Buffer.from(tracesProtobuf([span('forwarded as is')])), Buffer.from([0x78, 0x01])]);
}

function batchOf(signal: TelemetrySignal, bytes: Uint8Array, items: number): OtlpBatch {
  return OtlpBatch.fromBytes(signal, bytes, items, { receiver: 'test' });
}

const finding: Finding = {
  id: 'f-1', fingerprint: 'fp-1', time: '2026-01-02T03:04:05.000Z', status: 'new',
  rule: { id: 'sqli', name: 'SQL injection', owasp: 'API8:2023' }, severity: 'high', confidence: 'high',
  actor: { address: '203.0.113.9' }, target: { service: 'shop', method: 'GET', path: '/products' },
  key: { 'client.address': '203.0.113.9' }, count: 1, first_seen: '2026-01-02T03:04:05.000Z', last_seen: '2026-01-02T03:04:05.000Z',
  evidence: [{ time: '2026-01-02T03:04:05.000Z', trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331', summary: 'GET /products?id=<redacted> -> 200' }],
  source: 'detection',
};

describe('otlp exporter over HTTP/protobuf', () => {
  let sink: HttpSink;

  beforeAll(async () => {
    sink = await new HttpSink().start();
  });

  afterAll(async () => {
    await sink.stop();
  });

  afterEach(() => {
    sink.requests.length = 0;
    sink.responder = (_request, response) => response.end();
  });

  it('forwards the original bytes unchanged', async () => {
    const { exporter } = await startExporter({ protocol: 'http/protobuf', endpoint: sink.url, compression: 'none', headers: { 'X-Tenant': 'blue' } });
    const bytes = unusualTracesBytes();

    await exporter.consume(batchOf('traces', bytes, 1));

    const request = await waitFor(() => sink.requests[0], 10_000, 'the forwarded request');
    expect(request.url).toBe('/v1/traces');
    expect(request.headers['content-type']).toBe('application/x-protobuf');
    expect(request.headers['x-tenant']).toBe('blue');
    expect(request.headers['user-agent']).toBe('watchpost');
    expect(request.body.equals(bytes)).toBe(true);
  });

  it('keeps its queue in lmdb when asked to', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'watchpost-otlp-queue-'));
    const storage = new Storage(directory);
    const { exporter } = await startExporter({ protocol: 'http/protobuf', endpoint: sink.url, compression: 'none', sending_queue: { storage: 'lmdb' } }, storage);
    const bytes = unusualTracesBytes();

    await exporter.consume(batchOf('traces', bytes, 1));

    const request = await waitFor(() => sink.requests[0], 10_000, 'the forwarded request');
    expect(request.body.equals(bytes)).toBe(true);
    await exporter.shutdown();
    running.splice(0);
    await storage.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('compresses with gzip by default', async () => {
    const { exporter } = await startExporter({ protocol: 'http/protobuf', endpoint: `${sink.url}/prefix/` });
    const bytes = logsProtobuf(['gzip me']);

    await exporter.consume(batchOf('logs', bytes, 1));

    const request = await waitFor(() => sink.requests[0], 10_000, 'the forwarded request');
    expect(request.url).toBe('/prefix/v1/logs');
    expect(request.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(request.body).equals(Buffer.from(bytes))).toBe(true);
  });

  it('sends each signal to its own endpoint when set', async () => {
    const { exporter } = await startExporter({ protocol: 'http/protobuf', endpoint: sink.url, metrics_endpoint: `${sink.url}/custom/metrics`, compression: 'none' });

    await exporter.consume(batchOf('metrics', metricsProtobuf([1, 2]), 2));

    const request = await waitFor(() => sink.requests[0], 10_000, 'the metrics request');
    expect(request.url).toBe('/custom/metrics');
  });

  it('encodes a batch that a processor changed', async () => {
    const { exporter } = await startExporter({ protocol: 'http/protobuf', endpoint: sink.url, compression: 'none' });
    const batch = batchOf('traces', unusualTracesBytes(), 1);
    batch.mutate((message) => {
      (message as ExportTraceServiceRequest).resourceSpans![0].scopeSpans![0].spans![0].name = 'renamed';
    });

    await exporter.consume(batch);

    const request = await waitFor(() => sink.requests[0], 10_000, 'the forwarded request');
    const decoded = toOtlpJson('traces', decodeRequest('traces', request.body)) as { resourceSpans: { scopeSpans: { spans: { name: string }[] }[] }[] };
    expect(decoded.resourceSpans[0].scopeSpans[0].spans[0].name).toBe('renamed');
    expect(request.body.equals(unusualTracesBytes())).toBe(false);
  });

  it('retries 503 and 429 after Retry-After', async () => {
    const statuses = [503, 429, 200];
    sink.responder = (_request, response) => {
      const status = statuses.shift() ?? 200;
      response.writeHead(status, status === 200 ? {} : { 'retry-after': '0' }).end();
    };
    const { exporter, metrics } = await startExporter({ protocol: 'http/protobuf', endpoint: sink.url });

    await exporter.consume(batchOf('traces', tracesProtobuf([span('retried')]), 1));

    await waitFor(() => metrics.exporterSent.get({ exporter: 'otlp', signal: 'traces' }) === 1, 10_000, 'the delivery');
    expect(sink.requests.length).toBe(3);
  });

  it('drops a batch the server answers 400 and counts it', async () => {
    sink.responder = (_request, response) => {
      const body = encodeRpcStatus(3, 'bad spans');
      response.writeHead(400, { 'content-type': 'application/x-protobuf' }).end(body);
    };
    const { exporter, metrics, logs } = await startExporter({ protocol: 'http/protobuf', endpoint: sink.url });

    await exporter.consume(batchOf('traces', tracesProtobuf([span('refused'), span('refused too')]), 2));
    await waitFor(() => metrics.exporterSendFailed.get({ exporter: 'otlp', signal: 'traces' }) === 2, 10_000, 'the drop');
    await exporter.shutdown();

    expect(sink.requests.length).toBe(1);
    expect(logs.join('')).toContain('server responded with HTTP 400: bad spans');
  });

  it('counts items the server rejected in a partial success', async () => {
    sink.responder = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(encodeResponse('logs', 2, 'two records had bad ids'));
    };
    const { exporter, metrics, logs } = await startExporter({ protocol: 'http/protobuf', endpoint: sink.url });

    await exporter.consume(batchOf('logs', logsProtobuf(['a', 'b', 'c']), 3));

    await waitFor(() => metrics.registry.counter('watchpost_exporter_rejected_items_total', '').get({ exporter: 'otlp', signal: 'logs' }) === 2, 10_000, 'the rejected count');
    expect(metrics.exporterSent.get({ exporter: 'otlp', signal: 'logs' })).toBe(3);
    expect(logs.join('')).toContain('two records had bad ids');
  });

  it('sends findings as log records', async () => {
    const { exporter } = await startExporter({ protocol: 'http/protobuf', endpoint: sink.url, compression: 'none' });

    await exporter.consume(new FindingsBatch([finding], { receiver: 'detection' }));

    const request = await waitFor(() => sink.requests[0], 10_000, 'the findings request');
    expect(request.url).toBe('/v1/logs');
    const logs = toOtlpJson('logs', decodeRequest('logs', request.body) as ExportLogsServiceRequest) as { resourceLogs: { scopeLogs: { logRecords: Record<string, any>[] }[] }[] }; // eslint-disable-line @typescript-eslint/no-explicit-any
    const record = logs.resourceLogs[0].scopeLogs[0].logRecords[0];
    expect(record.eventName).toBe(FINDING_EVENT_NAME);
    expect(record.severityNumber).toBe(17);
    expect(record.severityText).toBe('high');
    expect(record.timeUnixNano).toBe('1767323045000000000');
    expect(record.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(record.spanId).toBe('b7ad6b7169203331');
    expect(record.attributes).toContainEqual({ key: 'watchpost.rule.id', value: { stringValue: 'sqli' } });
    expect(record.attributes).toContainEqual({ key: 'client.address', value: { stringValue: '203.0.113.9' } });
    expect(record.body.kvlistValue.values).toContainEqual({ key: 'fingerprint', value: { stringValue: 'fp-1' } });
  });
});

describe('otlp exporter over HTTPS', () => {
  let pki: TestPki;
  let server: HttpsServer;
  const bodies: Buffer[] = [];

  beforeAll(async () => {
    pki = createTestPki();
    server = createHttpsServer({ cert: pki.server.certPem, key: pki.server.keyPem, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: true }, (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        bodies.push(Buffer.concat(chunks));
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    pki.cleanup();
  });

  it('delivers with the CA file and a client certificate', async () => {
    const port = (server.address() as AddressInfo).port;
    const { exporter, metrics } = await startExporter({
      protocol: 'http/protobuf', endpoint: `https://localhost:${port}`, compression: 'none',
      tls: { ca_file: pki.ca.cert, cert_file: pki.client.cert, key_file: pki.client.key },
    });
    const bytes = tracesProtobuf([span('over https')]);

    await exporter.consume(batchOf('traces', bytes, 1));

    await waitFor(() => metrics.exporterSent.get({ exporter: 'otlp', signal: 'traces' }) === 1, 10_000, 'the delivery');
    expect(bodies[0].equals(Buffer.from(bytes))).toBe(true);
  });
});

describe('otlp exporter over gRPC', () => {
  let sink: GrpcSink;

  beforeAll(async () => {
    sink = await new GrpcSink().start();
  });

  afterAll(async () => {
    await sink.stop();
  });

  afterEach(() => {
    sink.calls.length = 0;
    sink.responder = () => ({ response: Buffer.alloc(0) });
  });

  it('forwards the original bytes with gzip and metadata', async () => {
    const { exporter } = await startExporter({ endpoint: sink.address, tls: { insecure: true }, headers: { 'X-Tenant': 'green' } });
    const bytes = unusualTracesBytes();

    await exporter.consume(batchOf('traces', bytes, 1));

    const call = await waitFor(() => sink.calls[0], 10_000, 'the forwarded call');
    expect(call.signal).toBe('traces');
    expect(call.body.equals(bytes)).toBe(true);
    expect(call.metadata['x-tenant']).toBe('green');
    expect(call.metadata['user-agent']).toMatch(/^watchpost/);
  });

  it('takes an http:// scheme as plaintext', async () => {
    const { exporter } = await startExporter({ endpoint: `http://${sink.address}` });

    await exporter.consume(batchOf('metrics', metricsProtobuf([3]), 1));

    const call = await waitFor(() => sink.calls[0], 10_000, 'the metrics call');
    expect(call.signal).toBe('metrics');
  });

  it('retries UNAVAILABLE and RESOURCE_EXHAUSTED with RetryInfo', async () => {
    const retryInfo = new Metadata();
    retryInfo.set('grpc-status-details-bin', Buffer.from(encodeRpcStatus(GrpcStatus.RESOURCE_EXHAUSTED, 'slow down', 10)));
    const answers = [
      { code: GrpcStatus.UNAVAILABLE, details: 'restarting' },
      { code: GrpcStatus.RESOURCE_EXHAUSTED, details: 'slow down', trailers: retryInfo },
    ];
    sink.responder = () => answers.shift() ?? { response: Buffer.alloc(0) };
    const { exporter, metrics } = await startExporter({ endpoint: sink.address, tls: { insecure: true } });

    await exporter.consume(batchOf('logs', logsProtobuf(['retry me']), 1));

    await waitFor(() => metrics.exporterSent.get({ exporter: 'otlp', signal: 'logs' }) === 1, 10_000, 'the delivery');
    expect(sink.calls.length).toBe(3);
  });

  for (const [code, name] of [[GrpcStatus.INVALID_ARGUMENT, 'INVALID_ARGUMENT'], [GrpcStatus.RESOURCE_EXHAUSTED, 'RESOURCE_EXHAUSTED without RetryInfo']] as const) {
    it(`drops a batch answered ${name}`, async () => {
      sink.responder = () => ({ code, details: 'not this' });
      const { exporter, metrics } = await startExporter({ endpoint: sink.address, tls: { insecure: true } });

      await exporter.consume(batchOf('traces', tracesProtobuf([span('dropped')]), 1));
      await waitFor(() => metrics.exporterSendFailed.get({ exporter: 'otlp', signal: 'traces' }) === 1, 10_000, 'the drop');
      await exporter.shutdown();

      expect(sink.calls.length).toBe(1);
    });
  }

  it('counts items the server rejected in a partial success', async () => {
    sink.responder = () => ({ response: Buffer.from(encodeResponse('traces', 1, 'one span had a bad id')) });
    const { exporter, metrics } = await startExporter({ endpoint: sink.address, tls: { insecure: true } });

    await exporter.consume(batchOf('traces', tracesProtobuf([span('a'), span('b')]), 2));

    await waitFor(() => metrics.registry.counter('watchpost_exporter_rejected_items_total', '').get({ exporter: 'otlp', signal: 'traces' }) === 1, 10_000, 'the rejected count');
  });

  it('sends findings to the logs service', async () => {
    const { exporter } = await startExporter({ endpoint: sink.address, tls: { insecure: true } });

    await exporter.consume(new FindingsBatch([finding, { ...finding, id: 'f-2', severity: 'low', evidence: [] }], { receiver: 'detection' }));

    const call = await waitFor(() => sink.calls[0], 10_000, 'the findings call');
    expect(call.signal).toBe('logs');
    const request = decodeRequest('logs', call.body) as ExportLogsServiceRequest;
    const records = request.resourceLogs![0].scopeLogs![0].logRecords!;
    expect(records.map((record) => record.severityNumber)).toEqual([17, 13]);
    expect(records[1].traceId?.length ?? 0).toBe(0);
  });
});

describe('otlp exporter over gRPC with mutual TLS', () => {
  let pki: TestPki;
  let sink: GrpcSink;

  beforeAll(async () => {
    pki = createTestPki();
    sink = await new GrpcSink().start(ServerCredentials.createSsl(pki.ca.certPem, [{ private_key: pki.server.keyPem, cert_chain: pki.server.certPem }], true));
  });

  afterAll(async () => {
    await sink.stop();
    pki.cleanup();
  });

  it('delivers with the CA file and a client certificate', async () => {
    const { exporter, metrics } = await startExporter({
      endpoint: `localhost:${sink.address.split(':')[1]}`,
      tls: { ca_file: pki.ca.cert, cert_file: pki.client.cert, key_file: pki.client.key },
    });

    await exporter.consume(batchOf('traces', tracesProtobuf([span('over grpc tls')]), 1));

    await waitFor(() => metrics.exporterSent.get({ exporter: 'otlp', signal: 'traces' }) === 1, 10_000, 'the delivery');
    expect(sink.calls.length).toBe(1);
  });

  it('fails without a client certificate', async () => {
    const callsBefore = sink.calls.length;
    const { exporter, metrics, logs } = await startExporter({
      endpoint: `localhost:${sink.address.split(':')[1]}`,
      tls: { ca_file: pki.ca.cert },
      retry_on_failure: { initial_interval: 20, max_interval: 20, max_elapsed_time: 200 },
    });

    await exporter.consume(batchOf('traces', tracesProtobuf([span('no client certificate')]), 1));

    await waitFor(() => metrics.exporterSendFailed.get({ exporter: 'otlp', signal: 'traces' }) === 1, 10_000, 'the drop');
    await exporter.shutdown();
    expect(sink.calls.length).toBe(callsBefore);
    expect(logs.join('')).toContain('server responded with gRPC UNAVAILABLE');
  });
});
