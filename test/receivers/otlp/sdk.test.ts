import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { DataPointType, type Histogram, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { Daemon } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait.js';
import {
  ExportResultCode, exportWith, fromJsonAnyValue, fromJsonAttributes, hrTimeToNanos, makeLogRecords, makeMetrics, makeSpans,
} from './sdk.js';
import { readJsonLines } from './payloads.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Returns the address a daemon's OTLP receiver logged for one protocol. */
function listening(daemon: Daemon, protocol: 'grpc' | 'http'): string {
  const line = daemon.logs.find((entry) => entry.id === 'otlp' && entry.protocol === protocol && entry.msg.endsWith('receiver listening'));
  if (!line) throw new Error(`no ${protocol} endpoint in the daemon log`);
  return line.endpoint as string;
}

const DOWNSTREAM = `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }
exporters:
  file: { path: ./received.jsonl }
service:
  worker_pool: { threads: 1 }
  admin: { endpoint: 127.0.0.1:0 }
  pipelines:
    traces: { receivers: [otlp], exporters: [file] }
    logs: { receivers: [otlp], exporters: [file] }
    metrics: { receivers: [otlp], exporters: [file] }
`;

/** Watchpost as users run it: detection on, a file copy, and forwarding over both OTLP transports. */
function upstreamConfig(downstreamGrpc: string, downstreamHttp: string): string {
  return `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0 }
      http: { endpoint: 127.0.0.1:0 }
processors:
  detection: {}
exporters:
  file: { path: ./received.jsonl }
  otlp/grpc:
    endpoint: ${downstreamGrpc}
    tls: { insecure: true }
    retry_on_failure: { initial_interval: 100ms }
  otlp/http:
    protocol: http/protobuf
    endpoint: http://${downstreamHttp}
    compression: none
    retry_on_failure: { initial_interval: 100ms }
service:
  worker_pool: { threads: 1 }
  admin: { endpoint: 127.0.0.1:0 }
  pipelines:
    traces: { receivers: [otlp], processors: [detection], exporters: [file, otlp/grpc, otlp/http] }
    logs: { receivers: [otlp], processors: [detection], exporters: [file, otlp/grpc, otlp/http] }
    metrics: { receivers: [otlp], exporters: [file, otlp/grpc, otlp/http] }
    findings: { receivers: [detection], exporters: [file] }
`;
}

function spansIn(requests: Json[]): { span: Json; resource: Json; scope: Json }[] {
  return requests.flatMap((request) => (request.resourceSpans ?? []).flatMap((resource: Json) =>
    (resource.scopeSpans ?? []).flatMap((scope: Json) => (scope.spans ?? []).map((span: Json) => ({ span, resource: resource.resource, scope: scope.scope })))));
}

function logRecordsIn(requests: Json[]): Json[] {
  return requests.flatMap((request) => (request.resourceLogs ?? []).flatMap((resource: Json) =>
    (resource.scopeLogs ?? []).flatMap((scope: Json) => scope.logRecords ?? [])));
}

function metricsIn(requests: Json[]): Json[] {
  return requests.flatMap((request) => (request.resourceMetrics ?? []).flatMap((resource: Json) =>
    (resource.scopeMetrics ?? []).flatMap((scope: Json) => scope.metrics ?? [])));
}

function expectSpanIntact(stored: { span: Json; resource: Json; scope: Json }, sent: ReadableSpan): void {
  const { span, resource, scope } = stored;
  expect(span.traceId).toBe(sent.spanContext().traceId);
  expect(span.parentSpanId ?? '').toBe(sent.parentSpanContext?.spanId ?? '');
  expect(span.name).toBe(sent.name);
  expect(span.kind).toBe(sent.kind + 1);
  expect(span.startTimeUnixNano).toBe(hrTimeToNanos(sent.startTime));
  expect(span.endTimeUnixNano).toBe(hrTimeToNanos(sent.endTime));
  expect(fromJsonAttributes(span.attributes)).toEqual(sent.attributes);
  expect((span.events ?? []).map((event: Json) => ({ name: event.name, time: event.timeUnixNano, attributes: fromJsonAttributes(event.attributes) })))
    .toEqual(sent.events.map((event) => ({ name: event.name, time: hrTimeToNanos(event.time), attributes: event.attributes ?? {} })));
  expect(span.status?.code ?? 0).toBe(sent.status.code);
  expect(span.status?.message ?? '').toBe(sent.status.message ?? '');
  expect(fromJsonAttributes(resource.attributes)['service.name']).toBe('sdk-test');
  expect(scope.name).toBe('watchpost-test');
  expect(scope.version).toBe('0.0.1');
}

function expectLogRecordIntact(stored: Json, sent: ReadableLogRecord): void {
  expect(fromJsonAnyValue(stored.body)).toBe(sent.body);
  expect(stored.severityNumber).toBe(sent.severityNumber);
  expect(stored.severityText).toBe(sent.severityText);
  expect(stored.timeUnixNano).toBe(hrTimeToNanos(sent.hrTime));
  expect(stored.observedTimeUnixNano).toBe(hrTimeToNanos(sent.hrTimeObserved));
  expect(fromJsonAttributes(stored.attributes)).toEqual(sent.attributes);
}

function expectMetricsIntact(stored: Json[], sent: ResourceMetrics): void {
  const sentMetrics = sent.scopeMetrics.flatMap((scope) => scope.metrics);
  expect(sentMetrics.length).toBe(2);
  for (const metric of sentMetrics) {
    const copy = stored.find((candidate) => candidate.name === metric.descriptor.name) as Json;
    expect(copy, metric.descriptor.name).toBeDefined();
    expect(copy.unit).toBe(metric.descriptor.unit);
    if (metric.dataPointType === DataPointType.SUM) {
      expect(copy.sum.isMonotonic).toBe(true);
      const points = copy.sum.dataPoints.map((point: Json) => ({ value: Number(point.asInt ?? point.asDouble), attributes: fromJsonAttributes(point.attributes), start: point.startTimeUnixNano, time: point.timeUnixNano }));
      expect(points).toEqual(metric.dataPoints.map((point) => ({ value: point.value, attributes: point.attributes, start: hrTimeToNanos(point.startTime), time: hrTimeToNanos(point.endTime) })));
    } else {
      const points = copy.histogram.dataPoints.map((point: Json) => ({
        count: Number(point.count), sum: point.sum, min: point.min, max: point.max,
        bounds: point.explicitBounds, buckets: point.bucketCounts.map(Number), attributes: fromJsonAttributes(point.attributes),
      }));
      expect(points).toEqual(metric.dataPoints.map((point) => {
        const value = point.value as Histogram;
        return { count: value.count, sum: value.sum, min: value.min, max: value.max, bounds: value.buckets.boundaries, buckets: value.buckets.counts, attributes: point.attributes };
      }));
    }
  }
}

describe('OpenTelemetry SDK exporters through two Watchposts', () => {
  let downstream: Daemon;
  let upstream: Daemon;
  let grpcUrl: string;
  let httpBase: string;

  beforeAll(async () => {
    downstream = await Daemon.start(DOWNSTREAM);
    upstream = await Daemon.start(upstreamConfig(listening(downstream, 'grpc'), listening(downstream, 'http')));
    grpcUrl = `http://${listening(upstream, 'grpc')}`;
    httpBase = `http://${listening(upstream, 'http')}`;
  }, 90_000);

  afterAll(async () => {
    await upstream?.dispose();
    await downstream?.dispose();
  });

  const traceCases = [
    { transport: 'gRPC', exporter: () => new GrpcTraceExporter({ url: grpcUrl }) },
    { transport: 'HTTP/protobuf', exporter: () => new ProtoTraceExporter({ url: `${httpBase}/v1/traces` }) },
    { transport: 'HTTP/JSON', exporter: () => new JsonTraceExporter({ url: `${httpBase}/v1/traces` }) },
  ];

  for (const { transport, exporter } of traceCases) {
    it(`delivers SDK spans over ${transport} intact`, async () => {
      const spans = makeSpans(6, `traces ${transport}`);
      expect(spans.length).toBe(6);

      const result = await exportWith(exporter(), spans);

      expect(result.code, String(result.error)).toBe(ExportResultCode.SUCCESS);
      const ids = new Set(spans.map((span) => span.spanContext().spanId));
      const upstreamCopies = await waitFor(() => {
        const found = spansIn(readJsonLines(upstream.path('received.jsonl'))).filter((entry) => ids.has(entry.span.spanId));
        return found.length >= spans.length && found;
      }, 15_000, 'the spans in the upstream file');
      const downstreamCopies = await waitFor(() => {
        const found = spansIn(readJsonLines(downstream.path('received.jsonl'))).filter((entry) => ids.has(entry.span.spanId));
        return found.length >= 2 * spans.length && found;
      }, 15_000, 'both forwarded copies of the spans downstream');
      expect(upstreamCopies.length).toBe(spans.length);
      expect(downstreamCopies.length).toBe(2 * spans.length);
      for (const sent of spans) {
        const copies = [...upstreamCopies, ...downstreamCopies].filter((entry) => entry.span.spanId === sent.spanContext().spanId);
        expect(copies.length).toBe(3);
        for (const copy of copies) expectSpanIntact(copy, sent);
      }
    });
  }

  const logCases = [
    { transport: 'gRPC', exporter: () => new GrpcLogExporter({ url: grpcUrl }) },
    { transport: 'HTTP/protobuf', exporter: () => new ProtoLogExporter({ url: `${httpBase}/v1/logs` }) },
    { transport: 'HTTP/JSON', exporter: () => new JsonLogExporter({ url: `${httpBase}/v1/logs` }) },
  ];

  for (const { transport, exporter } of logCases) {
    it(`delivers SDK log records over ${transport} intact`, async () => {
      const records = makeLogRecords(5, `logs ${transport}`);
      expect(records.length).toBe(5);

      const result = await exportWith(exporter(), records);

      expect(result.code, String(result.error)).toBe(ExportResultCode.SUCCESS);
      const bodies = new Set(records.map((record) => record.body));
      const matching = (path: string) => logRecordsIn(readJsonLines(path)).filter((record) => bodies.has(fromJsonAnyValue(record.body) as string));
      const upstreamCopies = await waitFor(() => matching(upstream.path('received.jsonl')).length >= records.length && matching(upstream.path('received.jsonl')), 15_000, 'the records upstream');
      const downstreamCopies = await waitFor(() => matching(downstream.path('received.jsonl')).length >= 2 * records.length && matching(downstream.path('received.jsonl')), 15_000, 'the records downstream');
      expect(upstreamCopies.length).toBe(records.length);
      expect(downstreamCopies.length).toBe(2 * records.length);
      for (const sent of records) {
        const copies = [...upstreamCopies, ...downstreamCopies].filter((record) => fromJsonAnyValue(record.body) === sent.body);
        expect(copies.length).toBe(3);
        for (const copy of copies) expectLogRecordIntact(copy, sent);
      }
    });
  }

  const metricCases = [
    { transport: 'gRPC', exporter: () => new GrpcMetricExporter({ url: grpcUrl }) },
    { transport: 'HTTP/protobuf', exporter: () => new ProtoMetricExporter({ url: `${httpBase}/v1/metrics` }) },
    { transport: 'HTTP/JSON', exporter: () => new JsonMetricExporter({ url: `${httpBase}/v1/metrics` }) },
  ];

  for (const { transport, exporter } of metricCases) {
    it(`delivers SDK metrics over ${transport} intact`, async () => {
      const label = `metrics_${transport.replace(/\W/g, '_').toLowerCase()}`;
      const metrics = await makeMetrics(label);

      const result = await exportWith(exporter(), metrics);

      expect(result.code, String(result.error)).toBe(ExportResultCode.SUCCESS);
      const matching = (path: string) => metricsIn(readJsonLines(path)).filter((metric) => metric.name.startsWith(`${label}.`));
      const upstreamCopies = await waitFor(() => matching(upstream.path('received.jsonl')).length >= 2 && matching(upstream.path('received.jsonl')), 15_000, 'the metrics upstream');
      const downstreamCopies = await waitFor(() => matching(downstream.path('received.jsonl')).length >= 4 && matching(downstream.path('received.jsonl')), 15_000, 'the metrics downstream');
      expect(upstreamCopies.length).toBe(2);
      expect(downstreamCopies.length).toBe(4);
      expectMetricsIntact(upstreamCopies, metrics);
      expectMetricsIntact(downstreamCopies.slice(0, 2), metrics);
      expectMetricsIntact(downstreamCopies.slice(2), metrics);
    });
  }

  it('counts every item on both daemons', async () => {
    const accepted = async (daemon: Daemon, signal: string) => {
      const text = await (await fetch(`http://${daemon.endpoint('admin')}/metrics`)).text();
      const match = new RegExp(`watchpost_receiver_accepted_items_total\\{receiver="otlp",signal="${signal}"\\} (\\d+)`).exec(text);
      return Number(match?.[1] ?? 0);
    };

    expect(await accepted(upstream, 'traces')).toBe(18);
    expect(await accepted(downstream, 'traces')).toBe(36);
    expect(await accepted(upstream, 'logs')).toBe(15);
    expect(await accepted(downstream, 'logs')).toBe(30);
    expect(await accepted(upstream, 'metrics')).toBe(12);
    expect(await accepted(downstream, 'metrics')).toBe(24);
  });
});
