import Long from 'long';
import { opentelemetry, google } from './generated/otlp.js';
import type { TelemetrySignal } from '../data/signal.js';

export const otlp = opentelemetry.proto;
export type ExportTraceServiceRequest = opentelemetry.proto.collector.trace.v1.IExportTraceServiceRequest;
export type ExportLogsServiceRequest = opentelemetry.proto.collector.logs.v1.IExportLogsServiceRequest;
export type ExportMetricsServiceRequest = opentelemetry.proto.collector.metrics.v1.IExportMetricsServiceRequest;
export type ExportRequest = ExportTraceServiceRequest | ExportLogsServiceRequest | ExportMetricsServiceRequest;
export type IKeyValue = opentelemetry.proto.common.v1.IKeyValue;
export type IAnyValue = opentelemetry.proto.common.v1.IAnyValue;
export type IResource = opentelemetry.proto.resource.v1.IResource;
export type ISpan = opentelemetry.proto.trace.v1.ISpan;
export type ILogRecord = opentelemetry.proto.logs.v1.ILogRecord;
export type IResourceSpans = opentelemetry.proto.trace.v1.IResourceSpans;
export type IResourceLogs = opentelemetry.proto.logs.v1.IResourceLogs;
export type IResourceMetrics = opentelemetry.proto.metrics.v1.IResourceMetrics;
export type IMetric = opentelemetry.proto.metrics.v1.IMetric;

export const SpanKind = opentelemetry.proto.trace.v1.Span.SpanKind;
export const RpcStatus = google.rpc.Status;

/** The fully qualified protobuf names of the request and response of each signal's Export call. */
export const EXPORT_TYPE_NAMES: Record<TelemetrySignal, { request: string; response: string; service: string }> = {
  traces: {
    request: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
    response: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
    service: 'opentelemetry.proto.collector.trace.v1.TraceService',
  },
  logs: {
    request: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
    response: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse',
    service: 'opentelemetry.proto.collector.logs.v1.LogsService',
  },
  metrics: {
    request: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
    response: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
    service: 'opentelemetry.proto.collector.metrics.v1.MetricsService',
  },
};

const REQUEST_CODECS = {
  traces: otlp.collector.trace.v1.ExportTraceServiceRequest,
  logs: otlp.collector.logs.v1.ExportLogsServiceRequest,
  metrics: otlp.collector.metrics.v1.ExportMetricsServiceRequest,
};

const RESPONSE_CODECS = {
  traces: otlp.collector.trace.v1.ExportTraceServiceResponse,
  logs: otlp.collector.logs.v1.ExportLogsServiceResponse,
  metrics: otlp.collector.metrics.v1.ExportMetricsServiceResponse,
};

/** Decodes an export request from protobuf bytes. Throws on malformed input. */
export function decodeRequest(signal: TelemetrySignal, bytes: Uint8Array): ExportRequest {
  return REQUEST_CODECS[signal].decode(bytes);
}

/** Encodes an export request, from a decoded message or a plain object of the same shape. */
export function encodeRequest(signal: TelemetrySignal, request: ExportRequest): Uint8Array {
  return (REQUEST_CODECS[signal] as { encode(message: ExportRequest): { finish(): Uint8Array } }).encode(request).finish();
}

/** Encodes an export response; `rejected` 0 with no message gives an empty response, as full success requires. */
export function encodeResponse(signal: TelemetrySignal, rejected: number, errorMessage = ''): Uint8Array {
  if (rejected === 0 && errorMessage === '') return new Uint8Array(0);
  const partialSuccess = signal === 'traces'
    ? { rejectedSpans: rejected, errorMessage }
    : signal === 'logs' ? { rejectedLogRecords: rejected, errorMessage } : { rejectedDataPoints: rejected, errorMessage };
  return (RESPONSE_CODECS[signal] as { encode(message: unknown): { finish(): Uint8Array } }).encode({ partialSuccess }).finish();
}

export function decodeResponse(signal: TelemetrySignal, bytes: Uint8Array): { rejected: number; errorMessage: string } {
  const response = RESPONSE_CODECS[signal].decode(bytes) as { partialSuccess?: Record<string, unknown> | null };
  const partial = response.partialSuccess;
  if (!partial) return { rejected: 0, errorMessage: '' };
  const rejected = partial.rejectedSpans ?? partial.rejectedLogRecords ?? partial.rejectedDataPoints ?? 0;
  return { rejected: Number(rejected), errorMessage: String(partial.errorMessage ?? '') };
}

/** Returns the resource-level list of a request: resourceSpans, resourceLogs or resourceMetrics. */
export function resourceList(signal: TelemetrySignal, request: ExportRequest): unknown[] {
  if (signal === 'traces') return (request as ExportTraceServiceRequest).resourceSpans ?? [];
  if (signal === 'logs') return (request as ExportLogsServiceRequest).resourceLogs ?? [];
  return (request as ExportMetricsServiceRequest).resourceMetrics ?? [];
}

/** Counts the items of a request: spans, log records, or metric data points. */
export function countItems(signal: TelemetrySignal, request: ExportRequest): number {
  let count = 0;
  if (signal === 'traces') {
    for (const resource of (request as ExportTraceServiceRequest).resourceSpans ?? []) {
      for (const scope of resource.scopeSpans ?? []) count += scope.spans?.length ?? 0;
    }
  } else if (signal === 'logs') {
    for (const resource of (request as ExportLogsServiceRequest).resourceLogs ?? []) {
      for (const scope of resource.scopeLogs ?? []) count += scope.logRecords?.length ?? 0;
    }
  } else {
    for (const resource of (request as ExportMetricsServiceRequest).resourceMetrics ?? []) {
      for (const scope of resource.scopeMetrics ?? []) {
        for (const metric of scope.metrics ?? []) count += countDataPoints(metric);
      }
    }
  }
  return count;
}

export function countDataPoints(metric: IMetric): number {
  const data = metric.gauge ?? metric.sum ?? metric.histogram ?? metric.exponentialHistogram ?? metric.summary;
  return data?.dataPoints?.length ?? 0;
}

/** The type URL of google.rpc.RetryInfo inside a google.protobuf.Any. */
export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/**
 * Encodes a google.rpc.Status: the body of an OTLP/HTTP error response, and the
 * `grpc-status-details-bin` trailer of a gRPC one. A retry delay, in milliseconds, is attached
 * as a google.rpc.RetryInfo detail, which OTLP clients honour before they retry.
 */
export function encodeRpcStatus(code: number, message: string, retryDelayMs?: number): Uint8Array {
  const details = [];
  if (retryDelayMs !== undefined) {
    const seconds = Math.floor(retryDelayMs / 1000);
    const nanos = Math.round((retryDelayMs - seconds * 1000) * 1e6);
    details.push({ typeUrl: RETRY_INFO_TYPE_URL, value: google.rpc.RetryInfo.encode({ retryDelay: { seconds: Long.fromNumber(seconds), nanos } }).finish() });
  }
  return RpcStatus.encode({ code, message, details }).finish();
}

/** Decodes a google.rpc.Status with the delay of its RetryInfo detail, in milliseconds, if it has one. Throws on malformed input. */
export function decodeRpcStatus(bytes: Uint8Array): { code: number; message: string; retryDelayMs?: number } {
  const status = RpcStatus.decode(bytes);
  let retryDelayMs: number | undefined;
  for (const detail of status.details ?? []) {
    if (detail.typeUrl !== RETRY_INFO_TYPE_URL || !detail.value) continue;
    const delay = google.rpc.RetryInfo.decode(detail.value).retryDelay;
    if (delay) retryDelayMs = Number(delay.seconds ?? 0) * 1000 + Math.round(Number(delay.nanos ?? 0) / 1e6);
  }
  return { code: status.code ?? 0, message: status.message ?? '', retryDelayMs };
}
