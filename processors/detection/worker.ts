import type { ExportLogsServiceRequest, ExportRequest, ExportTraceServiceRequest, IKeyValue } from '../../core/otlp/codec.js';
import { keyValue, stringAttribute } from '../../core/otlp/attributes.js';
import type { TelemetrySignal } from '../../core/data/signal.js';
import type { Stage, StageOutput, WorkerModule } from '../../core/pool/worker-api.js';
import { eventFromLogRecord, eventFromSpan, type HttpEvent } from './event.js';
import { EventView } from './view.js';
import { compileCondition, detectorDetails, type Predicate } from './rules/condition.js';
import type { RuleSet } from './rules/types.js';
import { redactQuery, redactText } from './redact.js';

/*
 * Worker-thread side of the detection processor: turns spans and log records into HTTP events,
 * evaluates every rule's stateless condition, marks records that matched a rule which raises a
 * finding on a single event, and returns compact matches for the stateful part.
 */

export interface DetectionStageOptions {
  rules: RuleSet;
  /** The attribute that marks matching spans and log records; empty disables marking. */
  markAttribute: string;
}

/** One event that matched at least one rule's condition. */
export interface EventMatch {
  /** Indexes into the rule list of the matched rules. */
  rules: number[];
  /** Event time, milliseconds since the epoch. */
  time: number;
  /** Actor and target fields, plus the group-by and distinct fields of the matched rules. */
  fields: Record<string, string | number>;
  /** One line describing the request, with secrets masked. */
  summary: string;
  /** What each detector found, such as `sqli: url.query:id: union select`. */
  details: string[];
}

export interface DetectionStageResult {
  /** HTTP events seen, matched or not. */
  events: number;
  matches: EventMatch[];
}

const FINDING_FIELDS = ['client.address', 'user.id', 'user_agent.original', 'http.request.method', 'url.path', 'http.route', 'server.address', 'service.name', 'http.response.status_code', 'trace_id', 'span_id'] as const;
const MAX_SUMMARY_LENGTH = 300;

interface CompiledRule {
  index: number;
  predicate: Predicate;
  /** Fields the main thread needs for this rule. */
  keyFields: string[];
  /** True when one matching event is enough for a finding, so the record is marked. */
  instant: boolean;
  id: string;
}

export function summarize(event: HttpEvent): string {
  const query = event['url.query'] ? `?${redactQuery(event['url.query'])}` : '';
  const status = event['http.response.status_code'] !== undefined ? ` -> ${event['http.response.status_code']}` : '';
  const line = `${event['http.request.method'] ?? '-'} ${redactText(event['url.path'] ?? '')}${query}${status}`;
  return line.length > MAX_SUMMARY_LENGTH ? `${line.slice(0, MAX_SUMMARY_LENGTH)}…` : line;
}

export class DetectionStage implements Stage {
  private readonly rules: CompiledRule[];

  constructor(private readonly options: DetectionStageOptions) {
    this.rules = options.rules.rules.map((rule, index) => ({
      index,
      id: rule.id,
      predicate: compileCondition(rule.when, options.rules),
      keyFields: [...rule.group_by, ...(rule.distinct ? [rule.distinct] : [])],
      instant: rule.threshold <= 1,
    }));
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
        for (const scope of resource.scopeSpans ?? []) for (const span of scope.spans ?? []) visit(eventFromSpan(span, service), span);
      }
    } else if (signal === 'logs') {
      for (const resource of (request as ExportLogsServiceRequest).resourceLogs ?? []) {
        const service = stringAttribute(resource.resource?.attributes, 'service.name');
        for (const scope of resource.scopeLogs ?? []) for (const record of scope.logRecords ?? []) visit(eventFromLogRecord(record, service), record);
      }
    }
    // Marking only pushes attributes onto spans and log records, so the pool can splice them into the bytes.
    return { result, modified, appendedAttributesOnly: true };
  }

  /** Evaluates every rule on one event; records a match and returns the ids of instant rules that matched. */
  evaluate(event: HttpEvent, matches: EventMatch[]): string[] {
    const view = new EventView(event);
    let matched: CompiledRule[] | undefined;
    for (const rule of this.rules) {
      if (rule.predicate(view)) (matched ??= []).push(rule);
    }
    if (!matched) return [];
    const fields: Record<string, string | number> = {};
    const record = event as unknown as Record<string, string | number | undefined>;
    for (const name of FINDING_FIELDS) if (record[name] !== undefined) fields[name] = record[name] as string | number;
    for (const rule of matched) for (const name of rule.keyFields) if (record[name] !== undefined) fields[name] = record[name] as string | number;
    matches.push({ rules: matched.map((rule) => rule.index), time: event.time, fields, summary: summarize(event), details: detectorDetails(view) });
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
