import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { Daemon } from '../helpers/daemon.js';
import { HttpSink } from '../helpers/http-sink.js';
import { waitFor } from '../helpers/wait.js';
import type { Finding } from '../../core/data/finding.js';

function config(webhook: string): string {
  return `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
  gatewaylog/nginx:
    include: [./access.log]
    format: nginx_combined
    start_at: end
    poll_interval: 50ms
processors:
  detection: {}
exporters:
  file/findings: { path: ./findings.jsonl }
  webhook: { endpoint: ${webhook}/hooks/findings }
  file/telemetry: { path: ./telemetry.jsonl }
service:
  admin: { endpoint: 127.0.0.1:0 }
  pipelines:
    traces: { receivers: [otlp], processors: [detection], exporters: [file/telemetry] }
    logs: { receivers: [otlp, gatewaylog/nginx], processors: [detection], exporters: [file/telemetry] }
    findings: { receivers: [detection], exporters: [file/findings, webhook] }
`;
}

function readFindings(daemon: Daemon): Finding[] {
  const path = daemon.path('findings.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Finding);
}

describe('daemon end to end', () => {
  let sink: HttpSink;
  let daemon: Daemon;

  beforeAll(async () => {
    sink = await new HttpSink().start();
    daemon = await Daemon.start(config(sink.url), { files: { 'access.log': '' } });
  });

  afterAll(async () => {
    await daemon?.dispose();
    await sink?.stop();
  });

  it('turns an SDK span carrying SQL injection into a finding', async () => {
    const exporter = new OTLPTraceExporter({ url: `http://${daemon.endpoint('otlp')}/v1/traces` });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'shop-api' }),
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const span = provider.getTracer('e2e').startSpan('GET /products', {
      kind: SpanKind.SERVER,
      attributes: {
        'http.request.method': 'GET',
        'url.path': '/products',
        'url.query': "id=1' OR '1'='1",
        'client.address': '203.0.113.9',
        'http.response.status_code': 200,
      },
    });
    span.end();
    await provider.forceFlush();
    await provider.shutdown();
    const traceId = span.spanContext().traceId;

    const finding = await waitFor(() => readFindings(daemon).find((candidate) => candidate.evidence.some((sample) => sample.trace_id === traceId)), 15_000, 'the SQL injection finding in the file');
    expect(finding.rule.id).toBe('sqli');
    expect(finding.actor.address).toBe('203.0.113.9');
    expect(finding.target.service).toBe('shop-api');
    expect(finding.evidence[0].span_id).toBe(span.spanContext().spanId);

    const posted = await waitFor(() => sink.json<Finding>().find((candidate) => candidate.fingerprint === finding.fingerprint), 15_000, 'the finding on the webhook');
    expect(posted.rule.id).toBe('sqli');
    expect(sink.requests[0].url).toBe('/hooks/findings');
    expect(sink.requests[0].headers['content-type']).toBe('application/json');
  });

  it('marks the attacking span for later sampling', async () => {
    const marked = await waitFor(() => {
      const path = daemon.path('telemetry.jsonl');
      if (!existsSync(path)) return undefined;
      return readFileSync(path, 'utf8').split('\n').filter(Boolean).find((line) => line.includes('watchpost.detection.rule_ids'));
    }, 15_000, 'the marked span in the telemetry file');
    const attribute = JSON.parse(marked).resourceSpans[0].scopeSpans[0].spans[0].attributes.find((entry: { key: string }) => entry.key === 'watchpost.detection.rule_ids');
    expect(attribute.value.arrayValue.values).toEqual([{ stringValue: 'sqli' }]);
  });

  it('turns an appended nginx line into a finding', async () => {
    appendFileSync(daemon.path('access.log'), '198.51.100.77 - - [04/Dec/2026:10:00:00 +0000] "GET /download?file=..%2f..%2f..%2fetc%2fpasswd HTTP/1.1" 404 153 "-" "curl/8.5.0"\n');
    const finding = await waitFor(() => readFindings(daemon).find((candidate) => candidate.actor.address === '198.51.100.77'), 15_000, 'the traversal finding');
    expect(finding.rule.id).toBe('path-traversal');
    expect(finding.first_seen).toBe('2026-12-04T10:00:00.000Z');
    await waitFor(() => sink.json<Finding>().some((candidate) => candidate.fingerprint === finding.fingerprint), 15_000, 'the traversal finding on the webhook');
  });

  it('counts accepted items on the metrics endpoint', async () => {
    const response = await fetch(`http://${daemon.endpoint('admin')}/metrics`);
    const text = await response.text();
    expect(response.status).toBe(200);
    expect(text).toMatch(/watchpost_receiver_accepted_items_total\{receiver="otlp",signal="traces"\} 1/);
    expect(text).toMatch(/watchpost_findings_emitted_total\{rule="sqli",source="detection"\} 1/);
  });

  it('shuts down cleanly on SIGTERM', async () => {
    writeFileSync(daemon.path('unused'), '');
    const code = await daemon.stop('SIGTERM');
    expect(code).toBe(0);
    expect(daemon.logs.some((line) => line.msg === 'watchpost stopped')).toBe(true);
  });
});
