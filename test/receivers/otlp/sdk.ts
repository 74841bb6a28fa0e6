import { SpanKind, SpanStatusCode, type Attributes, type HrTime } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';

/*
 * Telemetry made with the OpenTelemetry JS SDK, and helpers that push it through the SDK's own
 * OTLP exporters and report the export result, so tests use the SDK exactly as applications do.
 */

const resource = resourceFromAttributes({ 'service.name': 'sdk-test', 'service.version': '1.2.3' });

/** Attributes of every type the SDK can send: string, integer, double, boolean and arrays. */
export function sampleAttributes(index: number, label: string): Attributes {
  return {
    'test.label': label,
    'test.index': index,
    'test.ratio': index + 0.25,
    'test.flag': index % 2 === 0,
    'test.tags': ['alpha', `tag-${index}`],
    'test.counts': [index, index * 2],
  };
}

/** Ends `count` spans (a SERVER root and INTERNAL children with an event and a status) and returns them. */
export function makeSpans(count: number, label: string): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('watchpost-test', '0.0.1');
  tracer.startActiveSpan(`${label} root`, { kind: SpanKind.SERVER, attributes: sampleAttributes(0, label) }, (root) => {
    for (let i = 1; i < count; i++) {
      const child = tracer.startSpan(`${label} child ${i}`, { kind: SpanKind.INTERNAL, attributes: sampleAttributes(i, label) });
      child.addEvent('checkpoint', { 'event.index': i });
      child.setStatus({ code: i % 3 === 0 ? SpanStatusCode.ERROR : SpanStatusCode.OK, message: i % 3 === 0 ? 'failed on purpose' : undefined });
      child.end();
    }
    root.end();
  });
  return memory.getFinishedSpans();
}

/** Emits `count` log records with bodies, severities and attributes, and returns them. */
export function makeLogRecords(count: number, label: string): ReadableLogRecord[] {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource, processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
  const logger = provider.getLogger('watchpost-test', '0.0.1');
  for (let i = 0; i < count; i++) {
    logger.emit({
      body: `${label} record ${i}`,
      severityNumber: i % 2 === 0 ? SeverityNumber.INFO : SeverityNumber.ERROR,
      severityText: i % 2 === 0 ? 'INFO' : 'ERROR',
      attributes: sampleAttributes(i, label),
      timestamp: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, i)),
    });
  }
  return memory.getFinishedLogRecords();
}

class CollectingReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/** Records a counter and a histogram with two attribute sets each, and returns the collected metrics. */
export async function makeMetrics(label: string): Promise<ResourceMetrics> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({ resource, readers: [reader] });
  const meter = provider.getMeter('watchpost-test', '0.0.1');
  const counter = meter.createCounter(`${label}.requests`, { unit: '{request}' });
  const histogram = meter.createHistogram(`${label}.duration`, { unit: 'ms' });
  counter.add(5, { route: '/a' });
  counter.add(7, { route: '/b' });
  histogram.record(12.5, { route: '/a' });
  histogram.record(250, { route: '/a' });
  histogram.record(3, { route: '/b' });
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw new Error(`metric collection failed: ${errors.join(', ')}`);
  return resourceMetrics;
}

type AnyExporter<T> = { export(items: T, done: (result: ExportResult) => void): void; shutdown(): Promise<void> };

/** Exports items with an SDK exporter and resolves with its result; the exporter is shut down after. */
export async function exportWith<T>(exporter: AnyExporter<T>, items: T): Promise<ExportResult> {
  try {
    return await new Promise<ExportResult>((resolve) => exporter.export(items, resolve));
  } finally {
    await exporter.shutdown();
  }
}

export type { SpanExporter, LogRecordExporter, PushMetricExporter };
export { ExportResultCode };

/** OTLP nanoseconds as a decimal string from an SDK high-resolution time. */
export function hrTimeToNanos(time: HrTime): string {
  return (BigInt(time[0]) * 1_000_000_000n + BigInt(time[1])).toString();
}

/** The JavaScript value of an OTLP/JSON AnyValue, with int64 strings as numbers when they fit. */
export function fromJsonAnyValue(value: Record<string, unknown> | undefined): unknown {
  if (!value) return undefined;
  if ('stringValue' in value) return value.stringValue;
  if ('boolValue' in value) return value.boolValue;
  if ('intValue' in value) return Number(value.intValue);
  if ('doubleValue' in value) return value.doubleValue;
  if ('arrayValue' in value) return ((value.arrayValue as { values?: Record<string, unknown>[] }).values ?? []).map(fromJsonAnyValue);
  if ('kvlistValue' in value) {
    const entries = (value.kvlistValue as { values?: { key: string; value: Record<string, unknown> }[] }).values ?? [];
    return Object.fromEntries(entries.map((entry) => [entry.key, fromJsonAnyValue(entry.value)]));
  }
  return undefined;
}

/** OTLP/JSON attributes as a plain object. */
export function fromJsonAttributes(attributes: { key: string; value: Record<string, unknown> }[] | undefined): Record<string, unknown> {
  return Object.fromEntries((attributes ?? []).map((attribute) => [attribute.key, fromJsonAnyValue(attribute.value)]));
}
