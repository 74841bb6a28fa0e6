import type {
  ExportLogsServiceRequest, ExportMetricsServiceRequest, ExportRequest, ExportTraceServiceRequest, IMetric,
} from './codec.js';
import type { TelemetrySignal } from '../data/signal.js';

/** Length of a trace id in bytes; an empty id means "no trace" and is also allowed. */
export const TRACE_ID_BYTES = 16;
/** Length of a span id in bytes; an empty id is also allowed. */
export const SPAN_ID_BYTES = 8;

/** How many messages `Rejections.message` names before it only counts the rest. */
const NAMED_REJECTIONS = 1;

/**
 * The items (spans, log records or data points) left out of an export request because they
 * were invalid, with the reason for the first one. The OTLP response reports the count as
 * `partial_success.rejected_<items>` and the reasons as `error_message`.
 */
export class Rejections {
  count = 0;
  private readonly reasons: string[] = [];

  add(reason: string): void {
    this.count++;
    if (this.reasons.length < NAMED_REJECTIONS) this.reasons.push(reason);
  }

  /** Returns the first reason and how many more items were rejected; empty when none were. */
  message(): string {
    if (this.count === 0) return '';
    const more = this.count - this.reasons.length;
    return more > 0 ? `${this.reasons.join('; ')} (and ${more} more rejected)` : this.reasons.join('; ');
  }
}

interface IdOwner {
  traceId?: Uint8Array | null;
  spanId?: Uint8Array | null;
}

/** Returns why an id has the wrong length, or undefined when it is empty or the right length. */
export function idLengthProblem(bytes: Uint8Array | null | undefined, expected: number): string | undefined {
  const length = bytes?.length ?? 0;
  if (length === 0 || length === expected) return undefined;
  return `must be ${expected} bytes (${expected * 2} hex digits), got ${length} bytes`;
}

/** Returns why an item's ids are invalid, relative to the item (`traceId: …`), or undefined. */
function idsProblem(owner: IdOwner): string | undefined {
  const traceProblem = idLengthProblem(owner.traceId, TRACE_ID_BYTES);
  if (traceProblem) return `traceId: ${traceProblem}`;
  const spanProblem = idLengthProblem(owner.spanId, SPAN_ID_BYTES);
  if (spanProblem) return `spanId: ${spanProblem}`;
  return undefined;
}

function spanProblem(span: IdOwner & { parentSpanId?: Uint8Array | null; links?: IdOwner[] | null }): string | undefined {
  const problem = idsProblem(span);
  if (problem) return problem;
  const parentProblem = idLengthProblem(span.parentSpanId, SPAN_ID_BYTES);
  if (parentProblem) return `parentSpanId: ${parentProblem}`;
  const links = span.links ?? [];
  for (let l = 0; l < links.length; l++) {
    const linkProblem = idsProblem(links[l]);
    if (linkProblem) return `links[${l}].${linkProblem}`;
  }
  return undefined;
}

function dataPointProblem(point: { exemplars?: IdOwner[] | null }): string | undefined {
  const exemplars = point.exemplars ?? [];
  for (let e = 0; e < exemplars.length; e++) {
    const problem = idsProblem(exemplars[e]);
    if (problem) return `exemplars[${e}].${problem}`;
  }
  return undefined;
}

/**
 * Removes the items whose trace or span ids have a length other than empty, 16 and 8 bytes,
 * which protobuf decoding alone accepts, and records each in `rejections`. The OpenTelemetry
 * Collector refuses the whole request for such an id; removing only the bad items lets the
 * rest through, reported as a partial success. Leaves the request untouched when all items
 * are valid, so the original bytes stay usable.
 */
export function removeInvalidItems(signal: TelemetrySignal, request: ExportRequest, rejections: Rejections): void {
  if (signal === 'traces') removeInvalidSpans(request as ExportTraceServiceRequest, rejections);
  else if (signal === 'logs') removeInvalidLogRecords(request as ExportLogsServiceRequest, rejections);
  else removeInvalidDataPoints(request as ExportMetricsServiceRequest, rejections);
}

/**
 * Returns the valid items of a list, or undefined when all are valid, recording each invalid
 * one as `path[index].problem`. A new array is made only when an item is dropped: decoded
 * messages may share one frozen empty array, and an untouched request must stay as decoded.
 * The path is built only for invalid items, because this runs on every item of every request.
 */
function keepValid<T>(items: T[] | null | undefined, problemOf: (item: T) => string | undefined, path: () => string, rejections: Rejections): T[] | undefined {
  if (!items) return undefined;
  let kept: T[] | undefined;
  for (let index = 0; index < items.length; index++) {
    const problem = problemOf(items[index]);
    if (problem) {
      kept ??= items.slice(0, index);
      rejections.add(`${path()}[${index}].${problem}`);
    } else if (kept) {
      kept.push(items[index]);
    }
  }
  return kept;
}

function removeInvalidSpans(request: ExportTraceServiceRequest, rejections: Rejections): void {
  (request.resourceSpans ?? []).forEach((resource, r) => {
    (resource.scopeSpans ?? []).forEach((scope, s) => {
      const kept = keepValid(scope.spans, spanProblem, () => `resourceSpans[${r}].scopeSpans[${s}].spans`, rejections);
      if (kept) scope.spans = kept;
    });
  });
}

function removeInvalidLogRecords(request: ExportLogsServiceRequest, rejections: Rejections): void {
  (request.resourceLogs ?? []).forEach((resource, r) => {
    (resource.scopeLogs ?? []).forEach((scope, s) => {
      const kept = keepValid(scope.logRecords, idsProblem, () => `resourceLogs[${r}].scopeLogs[${s}].logRecords`, rejections);
      if (kept) scope.logRecords = kept;
    });
  });
}

function removeInvalidDataPoints(request: ExportMetricsServiceRequest, rejections: Rejections): void {
  (request.resourceMetrics ?? []).forEach((resource, r) => {
    (resource.scopeMetrics ?? []).forEach((scope, s) => {
      (scope.metrics ?? []).forEach((metric, m) => removeInvalidExemplarOwners(metric, `resourceMetrics[${r}].scopeMetrics[${s}].metrics[${m}]`, rejections));
    });
  });
}

/** Data points carry ids only in their exemplars; summaries have none. */
function removeInvalidExemplarOwners(metric: IMetric, path: string, rejections: Rejections): void {
  const entries = [
    ['gauge', metric.gauge],
    ['sum', metric.sum],
    ['histogram', metric.histogram],
    ['exponentialHistogram', metric.exponentialHistogram],
  ] as const;
  for (const [name, data] of entries) {
    if (!data) continue;
    const kept = keepValid(data.dataPoints as { exemplars?: IdOwner[] | null }[] | null | undefined, dataPointProblem, () => `${path}.${name}.dataPoints`, rejections);
    if (kept) (data as { dataPoints?: unknown[] }).dataPoints = kept;
  }
}
