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

  /** The first reason, and how many more items were rejected; empty when none were. */
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

function idsProblem(owner: IdOwner, path: string): string | undefined {
  const traceProblem = idLengthProblem(owner.traceId, TRACE_ID_BYTES);
  if (traceProblem) return `${path}.traceId: ${traceProblem}`;
  const spanProblem = idLengthProblem(owner.spanId, SPAN_ID_BYTES);
  if (spanProblem) return `${path}.spanId: ${spanProblem}`;
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
 * Filters a list in place of its owner, assigning a new array only when an item is dropped:
 * decoded messages may share one frozen empty array, and an untouched request must stay as decoded.
 */
function keepValid<T>(items: T[] | null | undefined, problemOf: (item: T, index: number) => string | undefined, rejections: Rejections): T[] | undefined {
  if (!items) return undefined;
  let kept: T[] | undefined;
  for (let index = 0; index < items.length; index++) {
    const problem = problemOf(items[index], index);
    if (problem) {
      kept ??= items.slice(0, index);
      rejections.add(problem);
    } else if (kept) {
      kept.push(items[index]);
    }
  }
  return kept;
}

function removeInvalidSpans(request: ExportTraceServiceRequest, rejections: Rejections): void {
  (request.resourceSpans ?? []).forEach((resource, r) => {
    (resource.scopeSpans ?? []).forEach((scope, s) => {
      const kept = keepValid(scope.spans, (span, index) => {
        const path = `resourceSpans[${r}].scopeSpans[${s}].spans[${index}]`;
        const problem = idsProblem(span, path) ?? prefixed(`${path}.parentSpanId`, idLengthProblem(span.parentSpanId, SPAN_ID_BYTES));
        if (problem) return problem;
        for (const [l, link] of (span.links ?? []).entries()) {
          const linkProblem = idsProblem(link, `${path}.links[${l}]`);
          if (linkProblem) return linkProblem;
        }
        return undefined;
      }, rejections);
      if (kept) scope.spans = kept;
    });
  });
}

function removeInvalidLogRecords(request: ExportLogsServiceRequest, rejections: Rejections): void {
  (request.resourceLogs ?? []).forEach((resource, r) => {
    (resource.scopeLogs ?? []).forEach((scope, s) => {
      const kept = keepValid(scope.logRecords, (record, index) => idsProblem(record, `resourceLogs[${r}].scopeLogs[${s}].logRecords[${index}]`), rejections);
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
    const kept = keepValid(data.dataPoints as { exemplars?: IdOwner[] | null }[] | null | undefined, (point, index) => {
      for (const [e, exemplar] of (point.exemplars ?? []).entries()) {
        const problem = idsProblem(exemplar, `${path}.${name}.dataPoints[${index}].exemplars[${e}]`);
        if (problem) return problem;
      }
      return undefined;
    }, rejections);
    if (kept) (data as { dataPoints?: unknown[] }).dataPoints = kept;
  }
}

function prefixed(path: string, problem: string | undefined): string | undefined {
  return problem ? `${path}: ${problem}` : undefined;
}
