import { decodeRequest, encodeRequest, type ExportTraceServiceRequest, type IKeyValue, type IResourceSpans, type ISpan } from '../../../core/otlp/codec.js';
import { findAttribute, nanosToMillis, stringAttribute } from '../../../core/otlp/attributes.js';
import { eventFromSpan } from '../../../core/data/http-event.js';
import type { TelemetrySignal } from '../../../core/data/signal.js';
import type { Stage, StageOutput, WorkerModule } from '../../../core/pool/worker-api.js';
import { compileSafeRegex, type SafeRegex } from '../../helper/regex.js';
import type { GroupOptions, SpanPredicate } from './predicates.js';

/*
 * Worker-thread side of tail sampling: splits a traces request by trace id, encodes each trace's
 * spans (with their resource and scope) as a request of its own, and summarizes what the
 * policies need, so the main thread buffers bytes and never decodes a span.
 */

/** One trace's part of a batch. */
export interface TraceFragment {
  /** Lower-case hex. */
  traceId: string;
  /** Where the fragment's encoded request lies in `GroupResult.data`. */
  offset: number;
  length: number;
  spans: number;
  /** Earliest span start and latest span end, milliseconds since the epoch. */
  startMs: number;
  endMs: number;
  /** Bit `1 << code` for each span status code seen: 0 unset, 1 ok, 2 error. */
  statuses: number;
  /** Indexes of the span predicates some span (or the resource) matched. */
  matched: number[];
  /** Bit `1 << i` when a span carries `markAttributes[i]`. */
  marks: number;
  /** `address:…` and `identity:…` of the trace's SERVER spans. */
  actors: string[];
}

export interface GroupResult {
  /** The fragments' encoded requests, one after another. */
  data: Uint8Array;
  traces: TraceFragment[];
}

interface CompiledPredicate {
  spec: SpanPredicate;
  regexes: SafeRegex[];
}

/** The longest attribute value a string predicate reads, in characters; the rest is ignored. */
const MAX_MATCH_LENGTH = 8192;

function compile(options: GroupOptions): CompiledPredicate[] {
  return options.predicates.map((spec) => ({
    spec,
    regexes: spec.kind === 'string' && spec.regex ? spec.values.map((value) => compileSafeRegex(value)).filter((regex): regex is SafeRegex => typeof regex !== 'string') : [],
  }));
}

function matches(predicate: CompiledPredicate, attributes: IKeyValue[] | null | undefined): boolean {
  const { spec } = predicate;
  const value = findAttribute(attributes, spec.key);
  if (spec.kind === 'numeric') {
    if (typeof value !== 'number') return false;
    return (spec.min === undefined || value >= spec.min) && (spec.max === undefined || value <= spec.max);
  }
  if (typeof value !== 'string') return false;
  if (!spec.regex) return spec.values.includes(value);
  const bounded = value.length > MAX_MATCH_LENGTH ? value.slice(0, MAX_MATCH_LENGTH) : value;
  return predicate.regexes.some((regex) => regex.test(bounded));
}

interface Building {
  fragment: TraceFragment;
  matched: Set<number>;
  actors: Set<string>;
  resources: Map<IResourceSpans, Map<object, ISpan[]>>;
}

function hex(bytes: Uint8Array | null | undefined): string {
  return bytes && bytes.length > 0 ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex') : '';
}

export class TraceGrouper {
  private readonly predicates: CompiledPredicate[];

  constructor(private readonly options: GroupOptions) {
    this.predicates = compile(options);
  }

  group(request: ExportTraceServiceRequest): GroupResult {
    const byTrace = new Map<string, Building>();
    for (const resource of request.resourceSpans ?? []) {
      const resourceMatched = this.predicates.flatMap((predicate, index) => (matches(predicate, resource.resource?.attributes) ? [index] : []));
      const service = stringAttribute(resource.resource?.attributes, 'service.name');
      for (const scope of resource.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) {
          const building = this.entry(byTrace, hex(span.traceId), resourceMatched);
          let scopes = building.resources.get(resource);
          if (!scopes) building.resources.set(resource, (scopes = new Map()));
          let spans = scopes.get(scope);
          if (!spans) scopes.set(scope, (spans = []));
          spans.push(span);
          this.summarize(building, span, service);
        }
      }
    }
    return encode(byTrace);
  }

  private entry(byTrace: Map<string, Building>, traceId: string, resourceMatched: number[]): Building {
    let building = byTrace.get(traceId);
    if (!building) {
      building = {
        fragment: { traceId, offset: 0, length: 0, spans: 0, startMs: Infinity, endMs: -Infinity, statuses: 0, matched: [], marks: 0, actors: [] },
        matched: new Set(),
        actors: new Set(),
        resources: new Map(),
      };
      byTrace.set(traceId, building);
    }
    for (const index of resourceMatched) building.matched.add(index);
    return building;
  }

  private summarize(building: Building, span: ISpan, service: string | undefined): void {
    const fragment = building.fragment;
    fragment.spans++;
    const start = nanosToMillis(span.startTimeUnixNano);
    const end = nanosToMillis(span.endTimeUnixNano);
    if (start < fragment.startMs) fragment.startMs = start;
    if (end > fragment.endMs) fragment.endMs = end;
    fragment.statuses |= 1 << (span.status?.code ?? 0);
    this.predicates.forEach((predicate, index) => {
      if (!building.matched.has(index) && matches(predicate, span.attributes)) building.matched.add(index);
    });
    this.options.markAttributes.forEach((attribute, index) => {
      const value = findAttribute(span.attributes, attribute);
      if (value !== undefined && value !== null && value !== '' && !(Array.isArray(value) && value.length === 0)) fragment.marks |= 1 << index;
    });
    if (this.options.actors) {
      const event = eventFromSpan(span, service);
      if (event?.['client.address']) building.actors.add(`address:${event['client.address']}`);
      if (event?.['user.id']) building.actors.add(`identity:${event['user.id']}`);
    }
  }
}

function encode(byTrace: Map<string, Building>): GroupResult {
  const parts: Uint8Array[] = [];
  const traces: TraceFragment[] = [];
  let offset = 0;
  for (const building of byTrace.values()) {
    const request: ExportTraceServiceRequest = { resourceSpans: [] };
    for (const [resource, scopes] of building.resources) {
      request.resourceSpans?.push({
        resource: resource.resource,
        schemaUrl: resource.schemaUrl,
        scopeSpans: [...scopes].map(([scope, spans]) => ({ ...(scope as object), spans })),
      });
    }
    const bytes = encodeRequest('traces', request);
    const fragment = building.fragment;
    fragment.offset = offset;
    fragment.length = bytes.length;
    fragment.matched = [...building.matched];
    fragment.actors = [...building.actors];
    offset += bytes.length;
    parts.push(bytes);
    traces.push(fragment);
  }
  return { data: Buffer.concat(parts, offset), traces };
}

export interface GroupTask {
  bytes: Uint8Array;
  options: GroupOptions;
}

const groupers = new Map<string, TraceGrouper>();

/** Groups an encoded request; used when the ingest stage's result no longer describes the batch. */
export function groupBytes(task: GroupTask): GroupResult {
  const key = JSON.stringify(task.options);
  let grouper = groupers.get(key);
  if (!grouper) {
    grouper = new TraceGrouper(task.options);
    groupers.set(key, grouper);
  }
  return grouper.group(decodeRequest('traces', task.bytes) as ExportTraceServiceRequest);
}

class TailSamplingStage implements Stage {
  private readonly grouper: TraceGrouper;

  constructor(options: GroupOptions) {
    this.grouper = new TraceGrouper(options);
  }

  run(signal: TelemetrySignal, request: ExportTraceServiceRequest): StageOutput {
    if (signal !== 'traces') return { result: undefined };
    return { result: this.grouper.group(request) };
  }
}

export const stages: WorkerModule['stages'] = {
  tail_sampling: (options) => new TailSamplingStage(options as GroupOptions),
};

export const tasks: WorkerModule['tasks'] = {
  'tail_sampling.group': (input: GroupTask) => groupBytes(input),
};
