import type { ExportLogsServiceRequest, ExportRequest, ExportTraceServiceRequest, IKeyValue } from '../../core/otlp/codec.js';
import { keyValue, stringAttribute } from '../../core/otlp/attributes.js';
import { parseCidr, type Cidr } from '../../core/cidr.js';
import type { TelemetrySignal } from '../../core/data/signal.js';
import type { Stage, StageOutput, WorkerModule } from '../../core/pool/worker-api.js';
import type { IdentitySource } from './config.js';
import { eventField, eventFromLogRecord, eventFromSpan, type ExtractOptions, type HttpEvent } from './event.js';
import { EventView, type DetectorContext } from './view.js';
import { compileCondition, detectorDetails, type Predicate } from './rules/condition.js';
import type { Rule, RuleSet } from './rules/types.js';
import { ApiSpec, type ApiSpecDocument } from './openapi.js';
import { redactQuery, redactText } from './redact.js';

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

/** One event that matched at least one rule's condition. */
export interface EventMatch {
  /** Indexes into the rule list of the matched rules. */
  rules: number[];
  /**
   * Per matched rule, a bit set of its extra conditions that also held: bit 0 for a window's
   * `share` condition, bit i for step i of a sequence.
   */
  marks: number[];
  /** Event time, milliseconds since the epoch. */
  time: number;
  /** Actor and target fields, plus the key, distinct and metric fields of the matched rules. */
  fields: Record<string, string | number>;
  /** One line describing the request, with secrets masked. */
  summary: string;
  /** Each detector's finding, such as `sqli: url.query:id: union select`. */
  details: string[];
}

export interface DetectionStageResult {
  /** HTTP events seen, matched or not. */
  events: number;
  matches: EventMatch[];
}

const FINDING_FIELDS = [
  'client.address', 'user.id', 'api_key.fingerprint', 'user_agent.original', 'http.request.method', 'url.path', 'http.route',
  'server.address', 'service.name', 'http.response.status_code', 'trace_id', 'span_id',
] as const;
const METRIC_FIELDS: Record<string, string> = { latency: 'http.server.request.duration', response_size: 'http.response.body.size', error_rate: 'http.response.status_code' };
const MAX_SUMMARY_LENGTH = 300;

interface CompiledRule {
  index: number;
  id: string;
  predicate: Predicate;
  /** Extra conditions whose results go into the match's marks, bit by bit. */
  marks: Predicate[];
  /** Fields the main thread needs for this rule. */
  keyFields: string[];
  /** True when one matching event is enough for a finding, so the record is marked. */
  instant: boolean;
}

export function summarize(event: HttpEvent): string {
  const query = event['url.query'] ? `?${redactQuery(event['url.query'])}` : '';
  const status = event['http.response.status_code'] !== undefined ? ` -> ${event['http.response.status_code']}` : '';
  const line = `${event['http.request.method'] ?? '-'} ${redactText(event['url.path'] ?? '')}${query}${status}`;
  return line.length > MAX_SUMMARY_LENGTH ? `${line.slice(0, MAX_SUMMARY_LENGTH)}…` : line;
}

function compileRule(rule: Rule, index: number, set: RuleSet): CompiledRule {
  const trigger = rule.trigger;
  const marks: Predicate[] = [];
  const keyFields = [...rule.group_by];
  if ((trigger.kind === 'count' || trigger.kind === 'distinct') && trigger.share) marks.push(compileCondition(trigger.share.when, set));
  if (trigger.kind === 'distinct') keyFields.push(trigger.field);
  if (trigger.kind === 'sequence') for (const step of trigger.steps) marks.push(compileCondition(step.when, set));
  if (trigger.kind === 'baseline') keyFields.push(METRIC_FIELDS[trigger.metric]);
  return { index, id: rule.id, predicate: compileCondition(rule.when, set), marks, keyFields, instant: trigger.kind === 'single' };
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

export class DetectionStage implements Stage {
  private readonly rules: CompiledRule[];
  private readonly extract: ExtractOptions;
  private readonly context: DetectorContext;

  constructor(private readonly options: DetectionStageOptions) {
    this.rules = options.rules.rules.map((rule, index) => compileRule(rule, index, options.rules));
    this.extract = extractOptions(options);
    this.context = {
      jwtMaxLifetimeMs: options.jwtMaxLifetimeMs ?? 30 * 24 * 3600_000,
      apiSpec: options.apiSpec ? new ApiSpec(options.apiSpec) : undefined,
    };
  }

  /** The options events are built with, for callers that build events themselves (rule tests, benchmarks). */
  get extractOptions(): ExtractOptions {
    return this.extract;
  }

  run(signal: TelemetrySignal, request: ExportRequest): StageOutput {
    const result: DetectionStageResult = { events: 0, matches: [] };
    let modified = false;
    const visit = (event: HttpEvent | undefined, owner: { attributes?: IKeyValue[] | null }) => {
      if (!event) return;
      result.events++;
      const marked = this.evaluate(event, result.matches);
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
    // Marking only pushes attributes onto spans and log records, so the pool can splice them into the bytes.
    return { result, modified, appendedAttributesOnly: true };
  }

  /** Evaluates every rule on one event; records a match and returns the ids of instant rules that matched. */
  evaluate(event: HttpEvent, matches: EventMatch[]): string[] {
    const view = new EventView(event, this.context);
    let matched: CompiledRule[] | undefined;
    for (const rule of this.rules) {
      if (rule.predicate(view)) (matched ??= []).push(rule);
    }
    if (!matched) return [];
    const fields: Record<string, string | number> = {};
    for (const name of FINDING_FIELDS) {
      const value = eventField(event, name);
      if (value !== undefined) fields[name] = value;
    }
    for (const rule of matched) {
      for (const name of rule.keyFields) {
        const value = eventField(event, name);
        if (value !== undefined) fields[name] = value;
      }
    }
    const marks = matched.map((rule) => rule.marks.reduce((bits, predicate, bit) => (predicate(view) ? bits | (1 << bit) : bits), 0));
    matches.push({ rules: matched.map((rule) => rule.index), marks, time: event.time, fields, summary: summarize(event), details: detectorDetails(view) });
    return matched.filter((rule) => rule.instant).map((rule) => rule.id);
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
