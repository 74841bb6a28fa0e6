import { decodeRequest, type ExportTraceServiceRequest, type IKeyValue, type ISpan } from '../../../core/otlp/codec.js';
import { findAttribute, nanosToMillis } from '../../../core/otlp/attributes.js';
import type { TelemetrySignal } from '../../../core/data/signal.js';
import type { Stage, StageOutput, WorkerModule } from '../../../core/pool/worker-api.js';
import { compileSafeRegex, type SafeRegex } from '../../helper/regex.js';
import type { GroupOptions, SpanPredicate } from './predicates.js';

/*
 * Worker-thread side of tail sampling: summarizes, per trace id, what the policies need from a
 * batch's spans, so the main thread keeps the spans as slices of the encoded batch and never
 * decodes one.
 */

/** The facts about one trace's spans in a batch that the policies read. */
export interface TraceSummary {
  /** Lower-case hex. */
  traceId: string;
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
  traces: TraceSummary[];
}

interface CompiledPredicate {
  spec: SpanPredicate;
  regexes: SafeRegex[];
}

/** Maximum length of an attribute value a string predicate reads, in characters; the rest is ignored. */
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
  fragment: TraceSummary;
  matched: Set<number>;
  actors: Set<string>;
}

/** SpanKind SERVER in OTLP. */
const SPAN_KIND_SERVER = 2;

/**
 * Attributes that name the client address and the user, in the order the HTTP event view prefers
 * them (current semantic conventions first, then older names).
 */
const ADDRESS_KEYS = ['client.address', 'http.client_ip', 'net.sock.peer.addr', 'net.peer.ip', 'network.peer.address'];
const IDENTITY_KEYS = ['user.id', 'enduser.id'];

/** Adds `address:…` and `identity:…` of a SERVER span, reading its attributes once. */
function addActors(actors: Set<string>, attributes: IKeyValue[] | null | undefined): void {
  if (!attributes) return;
  let address: string | undefined;
  let addressRank = ADDRESS_KEYS.length;
  let identity: string | undefined;
  let identityRank = IDENTITY_KEYS.length;
  for (const attribute of attributes) {
    const key = attribute.key ?? '';
    const value = attribute.value?.stringValue;
    if (!value) continue;
    const addressIndex = ADDRESS_KEYS.indexOf(key);
    if (addressIndex >= 0 && addressIndex < addressRank) {
      address = value;
      addressRank = addressIndex;
    }
    const identityIndex = IDENTITY_KEYS.indexOf(key);
    if (identityIndex >= 0 && identityIndex < identityRank) {
      identity = value;
      identityRank = identityIndex;
    }
  }
  if (address) actors.add(`address:${address}`);
  if (identity) actors.add(`identity:${identity}`);
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
      for (const scope of resource.scopeSpans ?? []) {
        for (const span of scope.spans ?? []) this.summarize(this.entry(byTrace, hex(span.traceId), resourceMatched), span);
      }
    }
    return {
      traces: [...byTrace.values()].map((building) => ({ ...building.fragment, matched: [...building.matched], actors: [...building.actors] })),
    };
  }

  private entry(byTrace: Map<string, Building>, traceId: string, resourceMatched: number[]): Building {
    let building = byTrace.get(traceId);
    if (!building) {
      building = {
        fragment: { traceId, spans: 0, startMs: Infinity, endMs: -Infinity, statuses: 0, matched: [], marks: 0, actors: [] },
        matched: new Set(),
        actors: new Set(),
      };
      byTrace.set(traceId, building);
    }
    for (const index of resourceMatched) building.matched.add(index);
    return building;
  }

  private summarize(building: Building, span: ISpan): void {
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
    if (this.options.actors && span.kind === SPAN_KIND_SERVER) addActors(building.actors, span.attributes);
  }
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
