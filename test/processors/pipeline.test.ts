import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { Daemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import type { Finding } from '../../core/data/finding.js';

const CONFIG = `
receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }
processors:
  memory_limiter: { limit_mib: 4096 }
  detection: {}
  apimetrics: { interval: 200ms, openapi: ./openapi.yaml }
  tail_sampling:
    decision_wait: 300ms
    policies:
      - { name: attacks, type: security }
      - { name: rest, type: probabilistic, probabilistic: { sampling_percentage: 0 } }
  batch: { timeout: 50ms }
  redaction: {}
exporters:
  file/traces: { path: ./traces.jsonl }
  file/metrics: { path: ./metrics.jsonl }
  file/findings: { path: ./findings.jsonl }
service:
  admin: { endpoint: 127.0.0.1:0 }
  pipelines:
    traces: { receivers: [otlp], processors: [memory_limiter, detection, apimetrics, tail_sampling, batch, redaction], exporters: [file/traces] }
    metrics/api: { receivers: [apimetrics], exporters: [file/metrics] }
    findings: { receivers: [detection], processors: [redaction], exporters: [file/findings] }
`;

const OPENAPI = `openapi: 3.0.3
info: { title: Shop, version: '1' }
paths:
  /products:
    get: { responses: { '200': { description: ok } } }
`;

function lines(daemon: Daemon, name: string): string[] {
  const path = daemon.path(name);
  return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
}

describe('observability pipeline end to end', () => {
  let daemon: Daemon;
  const traceIds: Record<string, string> = {};

  beforeAll(async () => {
    daemon = await Daemon.start(CONFIG, { files: { 'openapi.yaml': OPENAPI } });
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'shop-api' }),
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `http://${daemon.endpoint('otlp')}/v1/traces` }))],
    });
    const tracer = provider.getTracer('pipeline-test');
    const request = (name: string, query: string, status: number, address: string) => {
      const span = tracer.startSpan(`GET /products ${name}`, { kind: SpanKind.SERVER, attributes: {
        'http.request.method': 'GET', 'url.path': '/products', 'url.query': query, 'http.route': '/products',
        'http.response.status_code': status, 'client.address': address,
      } });
      span.end();
      traceIds[name] = span.spanContext().traceId;
    };
    request('benign', 'page=2&token=abcdef123456', 200, '198.51.100.7');
    request('attack', "id=1' OR '1'='1&token=abcdef123456", 500, '203.0.113.50');
    await provider.forceFlush();
    await provider.shutdown();
  });

  afterAll(async () => {
    await daemon?.dispose();
  });

  it('keeps the attack trace and drops the benign one', async () => {
    await waitFor(async () => (await (await fetch(`http://${daemon.endpoint('admin')}/metrics`)).text()).includes('watchpost_tail_sampling_traces_total{decision="not_sampled",policy="",processor="tail_sampling"} 1'), 15_000, 'the benign trace decision');
    const kept = await waitFor(() => lines(daemon, 'traces.jsonl').find((line) => line.includes(traceIds.attack)), 15_000, 'the attack trace in the traces file');
    expect(kept).toContain('watchpost.detection.rule_ids');
    expect(lines(daemon, 'traces.jsonl').some((line) => line.includes(traceIds.benign))).toBe(false);
  });

  it('redacts the token in exported spans and findings', async () => {
    const exported = lines(daemon, 'traces.jsonl').join('\n');
    expect(exported).not.toContain('abcdef123456');
    expect(exported).toContain('token=****');
    const finding = await waitFor(() => lines(daemon, 'findings.jsonl').map((line) => JSON.parse(line) as Finding).find((entry) => entry.rule.id === 'sqli'), 15_000, 'the finding');
    expect(JSON.stringify(finding)).not.toContain('abcdef123456');
  });

  it('emits RED metrics as OTLP and on /metrics', async () => {
    const metrics = await waitFor(() => lines(daemon, 'metrics.jsonl').find((line) => line.includes('watchpost.api.requests')), 15_000, 'OTLP metrics in the metrics file');
    expect(metrics).toContain('watchpost.api.request.duration');
    const text = await (await fetch(`http://${daemon.endpoint('admin')}/metrics`)).text();
    expect(text).toContain('watchpost_api_requests_total{service="shop-api",route="/products",method="GET",status_class="2xx",processor="apimetrics"} 1');
    expect(text).toContain('watchpost_api_errors_total{service="shop-api",route="/products",method="GET",status_class="5xx",processor="apimetrics"} 1');
    expect(text).toMatch(/watchpost_tail_sampling_traces_total\{decision="sampled",policy="attacks",processor="tail_sampling"\} 1/);
  });

  it('serves the API inventory', async () => {
    const body = await (await fetch(`http://${daemon.endpoint('admin')}/v1/inventory`)).json() as { processors: { routes: { route: string; request_count: number; error_count: number; in_openapi: boolean }[] }[] };
    expect(body.processors[0].routes).toEqual([expect.objectContaining({ route: '/products', request_count: 2, error_count: 1, in_openapi: true })]);
  });
});
