import Long from 'long';
import { decodeRequest, type ExportLogsServiceRequest, type ExportRequest, type ExportTraceServiceRequest, type IAnyValue, type IKeyValue, type ISpan } from '../../core/otlp/codec.js';
import { nanosToMillis, stringAttribute } from '../../core/otlp/attributes.js';
import type { TelemetrySignal } from '../../core/data/signal.js';
import type { Stage, StageOutput, WorkerModule } from '../../core/pool/worker-api.js';
import { matchTemplate, templateFromPath, type RouteTemplate } from './routes.js';

/*
 * Worker-thread side of apimetrics. It reads the HTTP fields of every SERVER span and access-log
 * record and adds them up per service, method, route and status class. The main thread then
 * merges a few aggregates per batch instead of reading every request.
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
/** SpanKind SERVER in OTLP. */
const SPAN_KIND_SERVER = 2;

/** The HTTP fields apimetrics reads from a span's or record's attributes. */
export interface HttpRequest {
  method?: string;
  route?: string;
  path?: string;
  status?: number;
  /** `http.server.request.duration` of access-log records, in seconds. */
  duration?: number;
}

/**
 * Attribute names per field, preferred first: the current semantic conventions, then older
 * names, as the HTTP event view reads them. `target` is a path with its query, or a full URL.
 */
const FIELD_KEYS: Record<string, { field: 'method' | 'route' | 'path' | 'target' | 'status' | 'duration'; rank: number }> = {
  'http.request.method': { field: 'method', rank: 0 },
  'http.method': { field: 'method', rank: 1 },
  'http.route': { field: 'route', rank: 0 },
  'url.path': { field: 'path', rank: 0 },
  'http.target': { field: 'target', rank: 0 },
  'url.full': { field: 'target', rank: 1 },
  'http.url': { field: 'target', rank: 2 },
  'http.response.status_code': { field: 'status', rank: 0 },
  'http.status_code': { field: 'status', rank: 1 },
  'http.server.request.duration': { field: 'duration', rank: 0 },
};

function plainValue(value: IAnyValue | null | undefined): string | number | undefined {
  if (!value) return undefined;
  if (typeof value.stringValue === 'string' && value.stringValue !== '') return value.stringValue;
  if (value.intValue !== undefined && value.intValue !== null) return Number(value.intValue);
  if (typeof value.doubleValue === 'number') return value.doubleValue;
  return undefined;
}

/** Returns the path of a `http.target`, `url.full` or `http.url` value, without scheme, host and query. */
function pathOf(target: string): string {
  let path = target;
  const scheme = target.indexOf('://');
  if (scheme > 0) {
    const slash = target.indexOf('/', scheme + 3);
    path = slash >= 0 ? target.slice(slash) : '/';
  }
  const question = path.indexOf('?');
  return question >= 0 ? path.slice(0, question) : path;
}

/** Reads the HTTP fields in one pass over the attributes; undefined when neither a method nor a path is there. */
export function readRequest(attributes: IKeyValue[] | null | undefined): HttpRequest | undefined {
  if (!attributes || attributes.length === 0) return undefined;
  const found: Partial<Record<string, { value: string | number; rank: number }>> = {};
  for (const attribute of attributes) {
    const slot = FIELD_KEYS[attribute.key ?? ''];
    if (!slot) continue;
    const value = plainValue(attribute.value);
    if (value === undefined) continue;
    const previous = found[slot.field];
    if (!previous || slot.rank < previous.rank) found[slot.field] = { value, rank: slot.rank };
  }
  const text = (field: string) => (found[field] === undefined ? undefined : String(found[field]?.value));
  const number = (field: string) => {
    const value = found[field]?.value;
    const parsed = typeof value === 'number' ? value : value !== undefined && value.trim() !== '' ? Number(value) : NaN;
    return Number.isFinite(parsed) ? parsed : undefined;
  };
  const target = text('target');
  const request: HttpRequest = { method: text('method'), route: text('route'), path: text('path') ?? (target ? pathOf(target) : undefined), status: number('status'), duration: number('duration') };
  return request.method === undefined && request.path === undefined ? undefined : request;
}
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
        const service = stringAttribute(resource.resource?.attributes, 'service.name') ?? '';
        for (const scope of resource.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            if (span.kind !== SPAN_KIND_SERVER) continue;
            const request = readRequest(span.attributes);
            if (request) this.add(series, service, request, nanosToMillis(span.startTimeUnixNano), spanSeconds(span), span.status?.code === SPAN_STATUS_ERROR);
          }
        }
      }
    } else if (signal === 'logs') {
      for (const resource of (request as ExportLogsServiceRequest).resourceLogs ?? []) {
        const service = stringAttribute(resource.resource?.attributes, 'service.name') ?? '';
        for (const scope of resource.scopeLogs ?? []) {
          for (const record of scope.logRecords ?? []) {
            const request = readRequest(record.attributes);
            const time = nanosToMillis(record.timeUnixNano) || nanosToMillis(record.observedTimeUnixNano);
            if (request) this.add(series, service, request, time, request.duration, false);
          }
        }
      }
    }
    return { aggregates: [...series.values()] };
  }

  /** Returns the route of a request: `http.route`, else the OpenAPI template, else the path with ids replaced. */
  route(request: Pick<HttpRequest, 'route' | 'path'>): string {
    if (request.route) return request.route;
    const path = request.path;
    if (!path || !this.options.routeFromPath) return '';
    return matchTemplate(path, this.options.templates)?.template ?? templateFromPath(path);
  }

  private add(series: Map<string, Aggregate>, service: string, request: HttpRequest, time: number, seconds: number | undefined, spanError: boolean): void {
    const rawMethod = (request.method ?? '').toUpperCase();
    const method = rawMethod === '' ? '' : KNOWN_METHODS.has(rawMethod) ? rawMethod : '_OTHER';
    const route = this.route(request);
    const status = request.status;
    const klass = statusClass(status);
    const key = `${service}\u001f${method}\u001f${route}\u001f${klass}`;
    let aggregate = series.get(key);
    if (!aggregate) {
      aggregate = { service, method, route, statusClass: klass, count: 0, errors: 0, timed: 0, sum: 0, bucketCounts: new Array(this.options.buckets.length + 1).fill(0), firstMs: time, lastMs: time };
      series.set(key, aggregate);
    }
    aggregate.count++;
    if (spanError || (status !== undefined && status >= this.options.errorStatusMin)) aggregate.errors++;
    if (time < aggregate.firstMs) aggregate.firstMs = time;
    if (time > aggregate.lastMs) aggregate.lastMs = time;
    if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return;
    aggregate.timed++;
    aggregate.sum += seconds;
    aggregate.bucketCounts[bucketIndex(this.options.buckets, seconds)]++;
  }
}

/** Returns the bucket of a value: the first whose upper bound is at least the value, or the last (overflow) bucket. */
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
