import Long from 'long';
import { decodeRequest, type ExportLogsServiceRequest, type ExportRequest, type ExportTraceServiceRequest, type ISpan } from '../../core/otlp/codec.js';
import { stringAttribute } from '../../core/otlp/attributes.js';
import { eventFromLogRecord, eventFromSpan, type HttpEvent } from '../../core/data/http-event.js';
import type { TelemetrySignal } from '../../core/data/signal.js';
import type { Stage, StageOutput, WorkerModule } from '../../core/pool/worker-api.js';
import { matchTemplate, templateFromPath, type RouteTemplate } from './routes.js';

/*
 * Worker-thread side of apimetrics: reads the HTTP event of every SERVER span and access-log
 * record and adds it up per service, method, route and status class, so the main thread merges
 * a few aggregates per batch instead of reading every request.
 */

export interface ObserveOptions {
  /** Upper bucket bounds, in seconds. */
  buckets: number[];
  routeFromPath: boolean;
  errorStatusMin: number;
  /** Templates of the loaded OpenAPI document, for paths without `http.route`. */
  templates: RouteTemplate[];
}

/** Requests of one series in one batch. */
export interface Aggregate {
  service: string;
  method: string;
  route: string;
  /** `2xx` … `5xx`, or `unknown` without a status code. */
  statusClass: string;
  count: number;
  errors: number;
  /** Requests with a known duration, their sum in seconds, and counts per bucket (one more than the bounds). */
  timed: number;
  sum: number;
  bucketCounts: number[];
  firstMs: number;
  lastMs: number;
}

export interface ObserveResult {
  aggregates: Aggregate[];
}

const SPAN_STATUS_ERROR = 2;
/** Methods kept as they are; anything else is counted as `_OTHER`, as the semantic conventions advise, to bound cardinality. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

function statusClass(status: number | undefined): string {
  if (status === undefined || status < 100 || status > 599) return 'unknown';
  return `${Math.floor(status / 100)}xx`;
}

/** Exact span duration in seconds, from the nanosecond timestamps. */
function spanSeconds(span: ISpan): number | undefined {
  if (!span.startTimeUnixNano || !span.endTimeUnixNano) return undefined;
  const start = Long.fromValue(span.startTimeUnixNano as Long | number | string);
  const end = Long.fromValue(span.endTimeUnixNano as Long | number | string);
  if (start.isZero() || end.lessThan(start)) return undefined;
  return end.subtract(start).toNumber() / 1e9;
}

export class Observer {
  constructor(private readonly options: ObserveOptions) {}

  observe(signal: TelemetrySignal, request: ExportRequest): ObserveResult {
    const series = new Map<string, Aggregate>();
    if (signal === 'traces') {
      for (const resource of (request as ExportTraceServiceRequest).resourceSpans ?? []) {
        const service = stringAttribute(resource.resource?.attributes, 'service.name');
        for (const scope of resource.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            const event = eventFromSpan(span, service);
            if (event) this.add(series, event, spanSeconds(span), span.status?.code === SPAN_STATUS_ERROR);
          }
        }
      }
    } else if (signal === 'logs') {
      for (const resource of (request as ExportLogsServiceRequest).resourceLogs ?? []) {
        const service = stringAttribute(resource.resource?.attributes, 'service.name');
        for (const scope of resource.scopeLogs ?? []) {
          for (const record of scope.logRecords ?? []) {
            const event = eventFromLogRecord(record, service);
            if (event) this.add(series, event, event['http.server.request.duration'], false);
          }
        }
      }
    }
    return { aggregates: [...series.values()] };
  }

  /** The route of an event: `http.route`, else the OpenAPI template, else the path with ids replaced. */
  route(event: HttpEvent): string {
    if (event['http.route']) return event['http.route'];
    const path = event['url.path'];
    if (!path || !this.options.routeFromPath) return '';
    return matchTemplate(path, this.options.templates)?.template ?? templateFromPath(path);
  }

  private add(series: Map<string, Aggregate>, event: HttpEvent, seconds: number | undefined, spanError: boolean): void {
    const rawMethod = (event['http.request.method'] ?? '').toUpperCase();
    const method = rawMethod === '' ? '' : KNOWN_METHODS.has(rawMethod) ? rawMethod : '_OTHER';
    const service = event['service.name'] ?? '';
    const route = this.route(event);
    const status = event['http.response.status_code'];
    const klass = statusClass(status);
    const key = `${service}\u001f${method}\u001f${route}\u001f${klass}`;
    let aggregate = series.get(key);
    if (!aggregate) {
      aggregate = { service, method, route, statusClass: klass, count: 0, errors: 0, timed: 0, sum: 0, bucketCounts: new Array(this.options.buckets.length + 1).fill(0), firstMs: event.time, lastMs: event.time };
      series.set(key, aggregate);
    }
    aggregate.count++;
    if (spanError || (status !== undefined && status >= this.options.errorStatusMin)) aggregate.errors++;
    if (event.time < aggregate.firstMs) aggregate.firstMs = event.time;
    if (event.time > aggregate.lastMs) aggregate.lastMs = event.time;
    if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return;
    aggregate.timed++;
    aggregate.sum += seconds;
    aggregate.bucketCounts[bucketIndex(this.options.buckets, seconds)]++;
  }
}

/** The bucket of a value: the first whose upper bound is at least the value, or the last (overflow) bucket. */
export function bucketIndex(bounds: number[], value: number): number {
  let low = 0;
  let high = bounds.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (value <= bounds[middle]) high = middle;
    else low = middle + 1;
  }
  return low;
}

export interface ObserveTask {
  signal: TelemetrySignal;
  bytes: Uint8Array;
  options: ObserveOptions;
}

const observers = new Map<string, Observer>();

/** Observes an encoded request; used when the ingest stage's result no longer describes the batch. */
export function observeBytes(task: ObserveTask): ObserveResult {
  const key = JSON.stringify(task.options);
  let observer = observers.get(key);
  if (!observer) {
    observer = new Observer(task.options);
    observers.set(key, observer);
  }
  return observer.observe(task.signal, decodeRequest(task.signal, task.bytes));
}

class ApiMetricsStage implements Stage {
  private readonly observer: Observer;

  constructor(options: ObserveOptions) {
    this.observer = new Observer(options);
  }

  run(signal: TelemetrySignal, request: ExportRequest): StageOutput {
    return { result: this.observer.observe(signal, request) };
  }
}

export const stages: WorkerModule['stages'] = {
  apimetrics: (options) => new ApiMetricsStage(options as ObserveOptions),
};

export const tasks: WorkerModule['tasks'] = {
  'apimetrics.observe': (input: ObserveTask) => observeBytes(input),
};
