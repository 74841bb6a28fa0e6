import Long from 'long';
import type { ExportMetricsServiceRequest, IKeyValue, IMetric } from '../../core/otlp/codec.js';
import { millisToNanos, toAttributes } from '../../core/otlp/attributes.js';
import type { Series } from './aggregator.js';

/*
 * The RED metrics in two forms: an OTLP export request for metrics pipelines (cumulative sums
 * and an explicit-bucket histogram, one resource per service) and Prometheus text for /metrics.
 */

export const METRIC_REQUESTS = 'watchpost.api.requests';
export const METRIC_ERRORS = 'watchpost.api.errors';
export const METRIC_DURATION = 'watchpost.api.request.duration';

/** OTLP AggregationTemporality CUMULATIVE. */
const CUMULATIVE = 2;
const SCOPE = { name: 'watchpost/apimetrics' };

function pointAttributes(series: Series): IKeyValue[] {
  if (series.overflow) return toAttributes({ 'otel.metric.overflow': true });
  return toAttributes({
    'http.route': series.route,
    'http.request.method': series.method,
    'http.response.status_class': series.statusClass,
  });
}

function metricsFor(seriesList: Series[], buckets: number[], nowMs: number): IMetric[] {
  const time = millisToNanos(nowMs);
  const sum = (name: string, description: string, value: (series: Series) => number): IMetric => ({
    name,
    description,
    unit: '{request}',
    sum: {
      aggregationTemporality: CUMULATIVE,
      isMonotonic: true,
      dataPoints: seriesList.map((series) => ({ attributes: pointAttributes(series), startTimeUnixNano: millisToNanos(series.startMs), timeUnixNano: time, asInt: Long.fromNumber(value(series)) })),
    },
  });
  return [
    sum(METRIC_REQUESTS, 'HTTP requests served, from SERVER spans and access logs.', (series) => series.count),
    sum(METRIC_ERRORS, 'HTTP requests that failed: a 5xx status (by default) or a span with status ERROR.', (series) => series.errors),
    {
      name: METRIC_DURATION,
      description: 'Duration of HTTP requests, from span start to end or the access log\'s request time.',
      unit: 's',
      histogram: {
        aggregationTemporality: CUMULATIVE,
        dataPoints: seriesList.filter((series) => series.timed > 0).map((series) => ({
          attributes: pointAttributes(series),
          startTimeUnixNano: millisToNanos(series.startMs),
          timeUnixNano: time,
          count: Long.fromNumber(series.timed, true),
          sum: series.sum,
          bucketCounts: series.bucketCounts.map((count) => Long.fromNumber(count, true)),
          explicitBounds: buckets,
        })),
      },
    },
  ];
}

/** Builds one export request with a resource per service; the overflow series has a resource without a service. */
export function toOtlp(seriesList: Series[], buckets: number[], nowMs: number): ExportMetricsServiceRequest {
  const byService = new Map<string | undefined, Series[]>();
  for (const series of seriesList) {
    const service = series.overflow ? undefined : series.service;
    const list = byService.get(service);
    if (list) list.push(series);
    else byService.set(service, [series]);
  }
  return {
    resourceMetrics: [...byService].map(([service, list]) => ({
      resource: { attributes: service === undefined ? [] : toAttributes({ 'service.name': service }) },
      scopeMetrics: [{ scope: SCOPE, metrics: metricsFor(list, buckets, nowMs) }],
    })),
  };
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(series: Series, extra: Record<string, string>): string {
  const base: Record<string, string> = series.overflow
    ? { otel_metric_overflow: 'true' }
    : { service: series.service, route: series.route, method: series.method, status_class: series.statusClass };
  return Object.entries({ ...base, ...extra }).map(([key, value]) => `${key}="${escapeLabel(value)}"`).join(',');
}

/** Renders the series in the Prometheus text format, with `processor` on every line. */
export function toPrometheus(sources: { processor: string; series: Series[]; buckets: number[] }[]): string {
  const lines: string[] = [
    '# HELP watchpost_api_requests_total HTTP requests served, from SERVER spans and access logs.',
    '# TYPE watchpost_api_requests_total counter',
  ];
  for (const { processor, series } of sources) for (const entry of series) lines.push(`watchpost_api_requests_total{${labels(entry, { processor })}} ${entry.count}`);
  lines.push('# HELP watchpost_api_errors_total HTTP requests that failed.', '# TYPE watchpost_api_errors_total counter');
  for (const { processor, series } of sources) for (const entry of series) lines.push(`watchpost_api_errors_total{${labels(entry, { processor })}} ${entry.errors}`);
  lines.push('# HELP watchpost_api_request_duration_seconds Duration of HTTP requests.', '# TYPE watchpost_api_request_duration_seconds histogram');
  for (const { processor, series, buckets } of sources) {
    for (const entry of series) {
      if (entry.timed === 0) continue;
      let cumulative = 0;
      buckets.forEach((bound, index) => {
        cumulative += entry.bucketCounts[index];
        lines.push(`watchpost_api_request_duration_seconds_bucket{${labels(entry, { processor, le: String(bound) })}} ${cumulative}`);
      });
      lines.push(`watchpost_api_request_duration_seconds_bucket{${labels(entry, { processor, le: '+Inf' })}} ${entry.timed}`);
      lines.push(`watchpost_api_request_duration_seconds_sum{${labels(entry, { processor })}} ${entry.sum}`);
      lines.push(`watchpost_api_request_duration_seconds_count{${labels(entry, { processor })}} ${entry.timed}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
