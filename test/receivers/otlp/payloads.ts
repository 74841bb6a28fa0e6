import { readFileSync } from 'node:fs';
import Long from 'long';
import { encodeRequest, type ExportRequest, type ISpan } from '../../../core/otlp/codec.js';
import { toOtlpJson } from '../../../core/otlp/json.js';
import { toAttributes } from '../../../core/otlp/attributes.js';

/** A valid span with the given ids; `traceId` and `spanId` are hex. */
export function span(name: string, traceId = '0102030405060708090a0b0c0d0e0f10', spanId = '1112131415161718', attributes: Record<string, string | number> = {}): ISpan {
  return {
    traceId: Buffer.from(traceId, 'hex'),
    spanId: Buffer.from(spanId, 'hex'),
    name,
    kind: 2,
    startTimeUnixNano: Long.fromString('1700000000000000001', true),
    endTimeUnixNano: Long.fromString('1700000000500000000', true),
    attributes: toAttributes(attributes),
  };
}

export function traceRequest(spans: ISpan[], service = 'checkout'): ExportRequest {
  return { resourceSpans: [{ resource: { attributes: toAttributes({ 'service.name': service }) }, scopeSpans: [{ scope: { name: 'test' }, spans }] }] };
}

export function tracesProtobuf(spans: ISpan[]): Uint8Array {
  return encodeRequest('traces', traceRequest(spans));
}

export function tracesJson(spans: ISpan[]): string {
  return JSON.stringify(toOtlpJson('traces', traceRequest(spans)));
}

export function logsProtobuf(bodies: string[]): Uint8Array {
  return encodeRequest('logs', {
    resourceLogs: [{ scopeLogs: [{ logRecords: bodies.map((body) => ({ timeUnixNano: Long.fromString('1700000000000000001', true), severityNumber: 9, body: { stringValue: body } })) }] }],
  });
}

export function metricsProtobuf(values: number[]): Uint8Array {
  return encodeRequest('metrics', {
    resourceMetrics: [{
      scopeMetrics: [{
        metrics: [{
          name: 'requests',
          sum: {
            aggregationTemporality: 2,
            isMonotonic: true,
            dataPoints: values.map((value) => ({ timeUnixNano: Long.fromString('1700000000000000001', true), asInt: Long.fromNumber(value) })),
          },
        }],
      }],
    }],
  });
}

/** Reads a JSON-lines file of OTLP/JSON requests, as the file exporter writes it. */
export function readJsonLines<T = Record<string, unknown>>(path: string): T[] {
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);
}

interface JsonSpan { name: string; traceId: string; spanId: string; [key: string]: unknown }

/** Every span in OTLP/JSON trace requests. */
export function spansOf(requests: Record<string, unknown>[]): JsonSpan[] {
  const spans: JsonSpan[] = [];
  for (const request of requests as { resourceSpans?: { scopeSpans?: { spans?: JsonSpan[] }[] }[] }[]) {
    for (const resource of request.resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) spans.push(...(scope.spans ?? []));
  }
  return spans;
}
