import type { ExportLogsServiceRequest, ExportRequest, ExportTraceServiceRequest, IKeyValue } from '../../core/otlp/codec.js';
import { keyValue, stringAttribute } from '../../core/otlp/attributes.js';
import { parseCidr, type Cidr } from '../../core/cidr.js';
import type { TelemetrySignal } from '../../core/data/signal.js';
import type { Stage, StageOutput, WorkerModule } from '../../core/pool/worker-api.js';
import type { IdentitySource } from './config.js';
import { EVENT_FIELDS, eventField, eventFromLogRecord, eventFromSpan, HEADER_FIELD_PREFIX, type ExtractOptions, type HttpEvent } from './event.js';
import { MatchWriter, type EventMatch, type PackedMatches } from './matches.js';
import { EventView, type DetectorContext } from './view.js';
import { compileCondition, detectorDetails, type Predicate } from './rules/condition.js';
import type { Rule, RuleSet } from './rules/types.js';
import { ApiSpec, type ApiSpecDocument } from './openapi.js';
import { redactPath, redactQuery } from './redact.js';

/*
 * Worker-thread side of the detection processor. It turns spans and log records into HTTP events
 * and evaluates every rule's stateless conditions. It marks records that matched a rule which
 * raises a finding on a single event, and returns compact matches for the stateful part.
 */

/** Stage options as they cross into the worker: plain data only. */
export interface DetectionStageOptions {
  rules: RuleSet;
  /** The attribute that marks matching spans and log records; empty disables marking. */
  markAttribute: string;
  trustedProxies?: string[];
  identitySources?: IdentitySource[];
  apiKeyHeaders?: string[];
  apiKeyQueryParameters?: string[];
  apiKeyHashKey?: string;
  jwtMaxLifetimeMs?: number;
  apiSpec?: ApiSpecDocument;
}

export type { EventMatch, PackedMatches };

export interface DetectionStageResult {
  /** HTTP events seen, matched or not. */
  events: number;
  /** The matches, packed; `unpackMatches` rebuilds them. */
  matches: PackedMatches;
}

/** Fields every match carries, for the finding's actor, target and evidence. */
const FINDING_FIELDS = [
  'client.address', 'user.id', 'api_key.fingerprint', 'user_agent.original', 'http.request.method', 'url.path', 'http.route',
  'server.address', 'service.name', 'http.response.status_code', 'trace_id', 'span_id',
];
const METRIC_FIELDS: Record<string, string> = { latency: 'http.server.request.duration', response_size: 'http.response.body.size', error_rate: 'http.response.status_code' };
const MAX_SUMMARY_LENGTH = 300;

/** Reads one event field by its rule name. */
type FieldReader = (event: HttpEvent) => string | number | undefined;

interface CompiledRule {
  index: number;
  id: string;
  predicate: Predicate;
  /** Extra conditions whose results go into the match's marks, bit by bit. */
  marks: Predicate[];
  /** True when one matching event is enough for a finding, so the record is marked. */
  instant: boolean;
}

function fieldReader(name: string): FieldReader {
  if (name.startsWith(HEADER_FIELD_PREFIX)) return (event) => eventField(event, name);
  return (event) => (event as unknown as Record<string, string | number | undefined>)[name];
}

/** Rule ids returned for an event that matched no instant rule; shared, never changed. */
const NO_RULE_IDS: string[] = [];

export function summarize(event: HttpEvent): string {
  const query = event['url.query'] ? `?${redactQuery(event['url.query'])}` : '';
  const status = event['http.response.status_code'] !== undefined ? ` -> ${event['http.response.status_code']}` : '';
  const line = `${event['http.request.method'] ?? '-'} ${redactPath(event['url.path'] ?? '')}${query}${status}`;
  return line.length > MAX_SUMMARY_LENGTH ? `${line.slice(0, MAX_SUMMARY_LENGTH)}…` : line;
}

/** Names the fields the main thread needs from a match: FINDING_FIELDS, then each rule's key, distinct and metric fields. */
export function matchFields(rules: readonly Rule[]): string[] {
  const names = [...FINDING_FIELDS];
  for (const rule of rules) {
    const trigger = rule.trigger;
    const extra = [...rule.group_by];
    if (trigger.kind === 'distinct') extra.push(trigger.field);
    if (trigger.kind === 'baseline') extra.push(METRIC_FIELDS[trigger.metric]);
    for (const name of extra) if (!names.includes(name)) names.push(name);
  }
  return names;
}

function compileRule(rule: Rule, index: number, set: RuleSet): CompiledRule {
  const trigger = rule.trigger;
  const marks: Predicate[] = [];
  if ((trigger.kind === 'count' || trigger.kind === 'distinct') && trigger.share) marks.push(compileCondition(trigger.share.when, set));
  if (trigger.kind === 'sequence') for (const step of trigger.steps) marks.push(compileCondition(step.when, set));
  return { index, id: rule.id, predicate: compileCondition(rule.when, set), marks, instant: trigger.kind === 'single' };
}

function extractOptions(options: DetectionStageOptions): ExtractOptions {
  return {
    trustedProxies: (options.trustedProxies ?? []).map((text) => parseCidr(text)).filter((cidr): cidr is Cidr => cidr !== undefined),
    identitySources: options.identitySources ?? [{ type: 'attribute', name: 'user.id' }],
    apiKeyHeaders: options.apiKeyHeaders ?? [],
    apiKeyQueryParameters: options.apiKeyQueryParameters ?? [],
    apiKeyHashKey: options.apiKeyHashKey ?? '',
  };
}

/** The destination of `evaluate`'s match: a list of match objects, or a writer that packs them. */
export type MatchSink = EventMatch[] | MatchWriter;

export class DetectionStage implements Stage {
  private readonly rules: CompiledRule[];
  private readonly extract: ExtractOptions;
  private readonly context: DetectorContext;
  private readonly fieldNames: string[];
  private readonly fieldReaders: FieldReader[];
  private readonly numericFields: boolean[];
  /** The rules and marks of the event being evaluated; reused from event to event. */
  private readonly matchedRules: number[] = [];
  private readonly matchedMarks: number[] = [];

  constructor(private readonly options: DetectionStageOptions) {
    this.rules = options.rules.rules.map((rule, index) => compileRule(rule, index, options.rules));
    this.extract = extractOptions(options);
    this.context = {
      jwtMaxLifetimeMs: options.jwtMaxLifetimeMs ?? 30 * 24 * 3600_000,
      apiSpec: options.apiSpec ? new ApiSpec(options.apiSpec) : undefined,
    };
    this.fieldNames = matchFields(options.rules.rules);
    this.fieldReaders = this.fieldNames.map(fieldReader);
    this.numericFields = this.fieldNames.map((name) => EVENT_FIELDS[name] === 'number');
  }

  /** The options events are built with, for callers that build events themselves (rule tests, benchmarks). */
  get extractOptions(): ExtractOptions {
    return this.extract;
  }

  /** Creates a writer for this stage's matches, to pass to `evaluate`. */
  matchWriter(): MatchWriter {
    return new MatchWriter(this.fieldNames, this.numericFields);
  }

  run(signal: TelemetrySignal, request: ExportRequest): StageOutput {
    let events = 0;
    const writer = this.matchWriter();
    let modified = false;
    const visit = (event: HttpEvent | undefined, owner: { attributes?: IKeyValue[] | null }) => {
      if (!event) return;
      events++;
      const marked = this.evaluate(event, writer);
      if (marked.length > 0 && this.options.markAttribute) {
        mark(owner, this.options.markAttribute, marked);
        modified = true;
      }
    };
    if (signal === 'traces') {
      for (const resource of (request as ExportTraceServiceRequest).resourceSpans ?? []) {
        const service = stringAttribute(resource.resource?.attributes, 'service.name');
        for (const scope of resource.scopeSpans ?? []) for (const span of scope.spans ?? []) visit(eventFromSpan(span, service, this.extract), span);
      }
    } else if (signal === 'logs') {
      for (const resource of (request as ExportLogsServiceRequest).resourceLogs ?? []) {
        const service = stringAttribute(resource.resource?.attributes, 'service.name');
        for (const scope of resource.scopeLogs ?? []) for (const record of scope.logRecords ?? []) visit(eventFromLogRecord(record, service, this.extract), record);
      }
    }
    const result: DetectionStageResult = { events, matches: writer.finish() };
    // Marking only pushes attributes onto spans and log records, so the pool can splice them into the bytes.
    return { result, modified, appendedAttributesOnly: true };
  }

  /** Evaluates every rule on one event; records a match in `sink` and returns the ids of instant rules that matched. */
  evaluate(event: HttpEvent, sink: MatchSink): string[] {
    const view = new EventView(event, this.context);
    const rules = this.matchedRules;
    const marks = this.matchedMarks;
    rules.length = 0;
    marks.length = 0;
    let instant: string[] | undefined;
    for (const rule of this.rules) {
      if (!rule.predicate(view)) continue;
      rules.push(rule.index);
      let bits = 0;
      for (let bit = 0; bit < rule.marks.length; bit++) if (rule.marks[bit](view)) bits |= 1 << bit;
      marks.push(bits);
      if (rule.instant) (instant ??= []).push(rule.id);
    }
    if (rules.length === 0) return NO_RULE_IDS;
    if (Array.isArray(sink)) sink.push(this.matchObject(event, view));
    else this.writeMatch(event, view, sink);
    return instant ?? NO_RULE_IDS;
  }

  private matchObject(event: HttpEvent, view: EventView): EventMatch {
    const fields: Record<string, string | number> = {};
    for (let slot = 0; slot < this.fieldNames.length; slot++) {
      const value = this.fieldReaders[slot](event);
      if (value === undefined || (this.numericFields[slot] && (typeof value !== 'number' || Number.isNaN(value)))) continue;
      fields[this.fieldNames[slot]] = value;
    }
    return { rules: [...this.matchedRules], marks: [...this.matchedMarks], time: event.time, fields, summary: summarize(event), details: detectorDetails(view) };
  }

  private writeMatch(event: HttpEvent, view: EventView, writer: MatchWriter): void {
    writer.begin(event.time, this.matchedRules, this.matchedMarks);
    for (let slot = 0; slot < this.fieldReaders.length; slot++) writer.field(slot, this.fieldReaders[slot](event));
    writer.end(summarize(event), detectorDetails(view));
  }
}

/** Adds the rule ids to the span's or record's attributes; decoded messages may share a frozen empty list. */
function mark(owner: { attributes?: IKeyValue[] | null }, attribute: string, ruleIds: string[]): void {
  if (!Object.hasOwn(owner, 'attributes') || !owner.attributes) owner.attributes = [];
  owner.attributes.push(keyValue(attribute, ruleIds));
}

export const stages: WorkerModule['stages'] = {
  detection: (options) => new DetectionStage(options as DetectionStageOptions),
};
