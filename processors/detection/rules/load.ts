import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { childPath, formatIssue, parseConfigYaml, type ConfigIssue, type ConfigNode, type MapNode } from '../../../core/config/node.js';
import {
  anyValue, boolean, closest, duration, integer, list, number, object, ParseContext, record, string, union, unknownKey, type Infer,
} from '../../../core/config/schema.js';
import { CONFIDENCES, SEVERITIES } from '../../../core/data/finding.js';
import { parseCidr } from '../../../core/cidr.js';
import { DETECTORS } from '../detectors/index.js';
import { EVENT_FIELDS, HEADER_FIELD_PREFIX, SECRET_HEADERS } from '../event.js';
import { checkFoldable, checkRegexSafety } from './regex.js';
import type { ApiSpecCheck, Condition, FieldCondition, Rule, RuleSet, RuleTest, ShareRequirement, Trigger } from './types.js';

const DEFAULT_SUPPRESS_MS = 10 * 60_000;

const actionSchema = object({
  type: string({ enum: ['ban_address', 'ban_identity', 'ban_api_key', 'alert'] as const }),
  duration: duration({ min: 1000 }),
}, { required: ['type'] });

const testSchema = object({
  name: string(),
  events: list(record(anyValue()), { minItems: 1 }),
  expect_findings: integer({ min: 0 }),
  expect: record(anyValue()),
  openapi: anyValue(),
}, { required: ['name', 'events', 'expect_findings'] });

const bucketSchema = object({
  capacity: integer({ min: 1 }),
  leak_rate: number({ min: 0, exclusiveMin: true }),
}, { required: ['capacity', 'leak_rate'] });

const sequenceSchema = object({
  within: duration({ min: 1 }),
  steps: list(anyValue(), { minItems: 2 }),
}, { required: ['within', 'steps'] });

const baselineSchema = object({
  metric: string({ enum: ['error_rate', 'latency', 'response_size'] as const }),
  interval: duration({ min: 1000 }),
  min_volume: integer({ min: 1 }),
  factor: number({ min: 1 }),
  warmup: integer({ min: 1 }),
  min_value: number({ min: 0 }),
}, { required: ['metric'] });

const ruleSchema = object({
  id: string({ check: (text) => (/^[a-z0-9][a-z0-9_.-]*$/.test(text) ? undefined : `must be lower-case letters, digits, ".", "_" or "-", got ${JSON.stringify(text)}`) }),
  name: string(),
  description: string(),
  severity: string({ enum: SEVERITIES }),
  confidence: string({ enum: CONFIDENCES }),
  owasp: string({ check: (text) => (/^API(10|[1-9]):2023$/.test(text) ? undefined : `must be an OWASP API Security Top 10 2023 category such as API2:2023, got ${JSON.stringify(text)}`) }),
  mitre_attack: string({ check: (text) => (/^T\d{4}(\.\d{3})?$/.test(text) ? undefined : `must be a MITRE ATT&CK technique id such as T1190, got ${JSON.stringify(text)}`) }),
  tags: list(string()),
  when: anyValue(),
  group_by: list(string(), { minItems: 1 }),
  window: duration({ min: 0 }),
  threshold: integer({ min: 1 }),
  distinct: string(),
  share: anyValue(),
  sequential: integer({ min: 2 }),
  bucket: bucketSchema,
  sequence: sequenceSchema,
  baseline: baselineSchema,
  suppress: duration({ min: 0 }),
  action: actionSchema,
  tests: list(testSchema),
}, { required: ['id', 'name', 'severity', 'when'] });

const fileSchema = object({
  rules: list(anyValue()),
  lists: record(list(union(string(), integer()))),
  macros: record(anyValue()),
});

/** Rule problems, each naming the file and line, as config errors do. */
export class RuleLoadError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(`invalid detection rules:\n${issues.map((issue) => `  ${formatIssue(issue)}`).join('\n')}`);
    this.name = 'RuleLoadError';
  }
}

/** Lists the YAML files of the given files and directories (directories are read one level deep, sorted). */
export function ruleFiles(paths: string[]): string[] {
  const files: string[] = [];
  for (const path of paths) {
    const info = statSync(path, { throwIfNoEntry: false });
    if (!info) throw new RuleLoadError([{ code: 'WP_ERR_RULE_INVALID', path: 'rules', file: path, line: 0, message: 'no such file or directory' }]);
    if (info.isDirectory()) {
      for (const name of readdirSync(path).sort()) {
        if (['.yaml', '.yml'].includes(extname(name))) files.push(join(path, name));
      }
    } else {
      files.push(path);
    }
  }
  return files;
}

/** Reads and validates rule files; throws RuleLoadError listing every problem. */
export function loadRules(paths: string[], disabled: string[] = []): RuleSet {
  const context = new ParseContext();
  const set: RuleSet = { rules: [], lists: {}, macros: {} };
  const pendingRules: { node: ConfigNode; file: string }[] = [];
  const macroNodes: { name: string; node: ConfigNode }[] = [];

  for (const file of ruleFiles(paths)) {
    const parsed = parseConfigYaml(readFileSync(file, 'utf8'), file, null);
    context.issues.push(...parsed.issues.map((issue) => ({ ...issue, code: 'WP_ERR_RULE_INVALID' as const })));
    if (!parsed.root) continue;
    const content = fileSchema.parse(parsed.root, context) as Infer<typeof fileSchema> | undefined;
    if (!content || parsed.root.kind !== 'map') continue;
    Object.assign(set.lists, content.lists ?? {});
    const macros = parsed.root.entries.get('macros');
    if (macros?.kind === 'map') for (const [name, node] of macros.entries) macroNodes.push({ name, node });
    const rules = parsed.root.entries.get('rules');
    if (rules?.kind === 'seq') for (const node of rules.items) pendingRules.push({ node, file });
  }

  for (const { name } of macroNodes) set.macros[name] = { all: [] };
  for (const { name, node } of macroNodes) {
    const condition = parseCondition(node, set, context);
    if (condition) set.macros[name] = condition;
  }
  const ids = new Map<string, string>();
  for (const { node, file } of pendingRules) {
    const rule = parseRule(node, file, set, context);
    if (!rule) continue;
    const previous = ids.get(rule.id);
    if (previous) {
      context.report(node, 'WP_ERR_RULE_INVALID', `rule id "${rule.id}" is already defined at ${previous}`);
      continue;
    }
    ids.set(rule.id, `${file}:${node.line}`);
    if (!disabled.includes(rule.id)) set.rules.push(rule);
  }
  const issues = context.issues.map((issue) => ({ ...issue, code: 'WP_ERR_RULE_INVALID' as const }));
  if (issues.length > 0) throw new RuleLoadError(issues);
  return set;
}

type ParsedRule = Infer<typeof ruleSchema>;

function parseRule(node: ConfigNode, file: string, set: RuleSet, context: ParseContext): Rule | undefined {
  const before = context.issues.length;
  const parsed = ruleSchema.parse(node, context) as ParsedRule | undefined;
  // The condition is checked even when other keys are invalid, so that one run lists every problem.
  const whenNode = node.kind === 'map' ? node.entries.get('when') : undefined;
  const when = whenNode ? parseCondition(whenNode, set, context) : undefined;
  if (!parsed || node.kind !== 'map') return undefined;
  const groupBy = parsed.group_by ?? ['client.address'];
  const groupNode = node.entries.get('group_by');
  for (const [index, field] of groupBy.entries()) checkKeyField(field, groupNode?.kind === 'seq' ? groupNode.items[index] : node, context);
  const trigger = parseTrigger(parsed, node, set, context);
  const testsNode = node.entries.get('tests');
  const tests = (parsed.tests ?? []).map((test, index): RuleTest => ({
    name: test.name as string,
    events: test.events as Record<string, unknown>[],
    expect_findings: test.expect_findings as number,
    expect: test.expect as Record<string, unknown> | undefined,
    openapi: test.openapi,
    line: testsNode?.kind === 'seq' ? testsNode.items[index]?.line : undefined,
  }));
  if (testsNode?.kind === 'seq') for (const testNode of testsNode.items) checkTestEventFields(testNode, context);
  if (!when || !trigger || context.issues.length > before) return undefined;
  return {
    id: parsed.id as string,
    name: parsed.name as string,
    description: parsed.description ?? '',
    severity: parsed.severity as Rule['severity'],
    confidence: parsed.confidence ?? 'medium',
    owasp: parsed.owasp,
    mitre_attack: parsed.mitre_attack,
    tags: parsed.tags ?? [],
    when,
    group_by: groupBy,
    trigger,
    suppress: parsed.suppress ?? DEFAULT_SUPPRESS_MS,
    action: parsed.action ? { type: parsed.action.type as NonNullable<Rule['action']>['type'], duration_seconds: parsed.action.duration !== undefined ? parsed.action.duration / 1000 : undefined } : undefined,
    tests,
    source: { file, line: node.line },
  };
}

/** Reads the rule's stateful part: at most one of window/threshold/distinct, bucket, sequence or baseline. */
function parseTrigger(parsed: ParsedRule, node: MapNode, set: RuleSet, context: ParseContext): Trigger | undefined {
  const windowKeys = ['window', 'threshold', 'distinct', 'share', 'sequential'].filter((key) => node.entries.has(key));
  const kinds = [windowKeys.length > 0 ? 'window' : '', ...['bucket', 'sequence', 'baseline'].filter((key) => node.entries.has(key))].filter(Boolean);
  if (kinds.length > 1) return context.report(node, 'WP_ERR_RULE_INVALID', `rule "${parsed.id}" combines ${kinds.join(' and ')}; a rule has one of window/threshold, bucket, sequence or baseline`);
  if (parsed.bucket) return { kind: 'bucket', capacity: parsed.bucket.capacity as number, leakRate: parsed.bucket.leak_rate as number };
  if (parsed.sequence) return parseSequence(parsed.sequence, node.entries.get('sequence') as MapNode, set, context);
  if (parsed.baseline) {
    const baseline = parsed.baseline;
    const metric = baseline.metric as 'error_rate' | 'latency' | 'response_size';
    return {
      kind: 'baseline',
      metric,
      interval: baseline.interval ?? 60_000,
      minVolume: baseline.min_volume ?? 50,
      factor: baseline.factor ?? 3,
      warmup: baseline.warmup ?? 10,
      minValue: baseline.min_value ?? (metric === 'error_rate' ? 0.05 : 0),
    };
  }
  const threshold = parsed.threshold ?? 1;
  const share = node.entries.has('share') ? parseShare(node.entries.get('share') as ConfigNode, set, context) : undefined;
  if (node.entries.has('share') && !share) return undefined;
  if (parsed.distinct !== undefined) {
    checkKeyField(parsed.distinct, node.entries.get('distinct') as ConfigNode, context);
    if (!parsed.window) return context.report(node, 'WP_ERR_RULE_INVALID', `rule "${parsed.id}" counts distinct ${parsed.distinct} but has no window; add a window such as 10m`);
    return { kind: 'distinct', field: parsed.distinct, window: parsed.window, threshold, share, sequential: parsed.sequential };
  }
  if (parsed.sequential !== undefined) return context.report(node, 'WP_ERR_RULE_INVALID', `rule "${parsed.id}" has sequential but no distinct field; sequential counts consecutive distinct values`);
  if (threshold > 1 || share) {
    if (!parsed.window) return context.report(node, 'WP_ERR_RULE_INVALID', `rule "${parsed.id}" has threshold ${threshold} but no window; add a window such as 1m`);
    return { kind: 'count', window: parsed.window, threshold, share };
  }
  return { kind: 'single' };
}

function parseShare(node: ConfigNode, set: RuleSet, context: ParseContext): ShareRequirement | undefined {
  const parsed = object({ when: anyValue(), min: number({ min: 0, max: 1 }) }, { required: ['when', 'min'] }).parse(node, context);
  if (!parsed || node.kind !== 'map') return undefined;
  const when = parseCondition(node.entries.get('when') as ConfigNode, set, context);
  return when ? { when, min: parsed.min as number } : undefined;
}

function parseSequence(parsed: { within?: number; steps?: unknown[] }, node: MapNode, set: RuleSet, context: ParseContext): Trigger | undefined {
  const stepsNode = node.entries.get('steps');
  if (stepsNode?.kind !== 'seq') return undefined;
  const steps: { when: Condition; count: number }[] = [];
  const stepSchema = object({ when: anyValue(), count: integer({ min: 1 }) }, { required: ['when'] });
  for (const stepNode of stepsNode.items) {
    const step = stepSchema.parse(stepNode, context);
    if (!step || stepNode.kind !== 'map') return undefined;
    const when = parseCondition(stepNode.entries.get('when') as ConfigNode, set, context);
    if (!when) return undefined;
    steps.push({ when, count: step.count ?? 1 });
  }
  return { kind: 'sequence', within: parsed.within as number, steps };
}

/** Reports whether a rule may name the field: an event field or `http.request.header.<name>`. */
function isKnownField(field: string): boolean {
  return Object.hasOwn(EVENT_FIELDS, field) || (field.startsWith(HEADER_FIELD_PREFIX) && field.length > HEADER_FIELD_PREFIX.length);
}

function checkField(field: string, where: Pick<ConfigNode, 'path' | 'file' | 'line'>, context: ParseContext): void {
  if (!isKnownField(field)) {
    context.report(where, 'WP_ERR_RULE_INVALID', `unknown event field "${field}"; known fields: ${Object.keys(EVENT_FIELDS).join(', ')}, ${HEADER_FIELD_PREFIX}<name>`);
  }
}

/** Checks a field whose values become finding keys or distinct values; secrets may not, since findings leave the daemon. */
function checkKeyField(field: string, where: Pick<ConfigNode, 'path' | 'file' | 'line'>, context: ParseContext): void {
  checkField(field, where, context);
  if (field.startsWith(HEADER_FIELD_PREFIX) && SECRET_HEADERS.has(field.slice(HEADER_FIELD_PREFIX.length))) {
    context.report(where, 'WP_ERR_RULE_INVALID', `"${field}" carries credentials and cannot be a key or distinct field; use api_key.fingerprint or user.id`);
  }
}

const COMBINATORS = ['all', 'any', 'not', 'detector', 'macro', 'api_spec'];
const FIELD_OPERATORS = ['equals', 'in', 'in_list', 'contains', 'starts_with', 'ends_with', 'regex', 'cidr', 'exists', 'gt', 'gte', 'lt', 'lte'];
const API_SPEC_CHECKS: readonly ApiSpecCheck[] = ['undocumented', 'deprecated', 'documented'];
const fieldConditionSchema = object({
  field: string(),
  equals: union(string({ allowEmpty: true }), anyValue()),
  in: list(anyValue()),
  in_list: string(),
  contains: anyValue(),
  starts_with: anyValue(),
  ends_with: anyValue(),
  regex: string(),
  cidr: anyValue(),
  exists: boolean(),
  gt: anyValue(),
  gte: anyValue(),
  lt: anyValue(),
  lte: anyValue(),
  ignore_case: boolean(),
}, { required: ['field'] });

/** Validates a condition node and returns it as plain data; reports problems with their lines. */
export function parseCondition(node: ConfigNode, set: RuleSet, context: ParseContext): Condition | undefined {
  if (node.kind !== 'map') return context.invalid(node, 'a condition map (field, all, any, not, detector, macro or api_spec)');
  const keys = [...node.entries.keys()];
  const combinator = keys.find((key) => COMBINATORS.includes(key));
  if (combinator) {
    if (keys.length > 1) return context.report(node, 'WP_ERR_RULE_INVALID', `"${combinator}" must be the only key of its condition, found ${keys.join(', ')}`);
    return parseCombinator(combinator, node.entries.get(combinator) as ConfigNode, set, context);
  }
  if (!keys.includes('field')) {
    for (const key of keys) unknownKey(node, key, [...COMBINATORS, 'field'], context);
    return undefined;
  }
  return parseFieldCondition(node, set, context);
}

function parseCombinator(key: string, value: ConfigNode, set: RuleSet, context: ParseContext): Condition | undefined {
  if (key === 'all' || key === 'any') {
    if (value.kind !== 'seq' || value.items.length === 0) return context.invalid(value, 'a non-empty list of conditions');
    const items = value.items.map((item) => parseCondition(item, set, context));
    if (items.some((item) => item === undefined)) return undefined;
    return key === 'all' ? { all: items as Condition[] } : { any: items as Condition[] };
  }
  if (key === 'not') {
    const inner = parseCondition(value, set, context);
    return inner ? { not: inner } : undefined;
  }
  const name = value.kind === 'scalar' ? value.text : '';
  if (key === 'detector') {
    if (!DETECTORS.has(name)) return context.report(value, 'WP_ERR_RULE_INVALID', `unknown detector "${name}"; known detectors: ${[...DETECTORS.keys()].join(', ')}`);
    return { detector: name };
  }
  if (key === 'api_spec') {
    if (!API_SPEC_CHECKS.includes(name as ApiSpecCheck)) return context.report(value, 'WP_ERR_RULE_INVALID', `api_spec must be one of ${API_SPEC_CHECKS.join(', ')}, got ${JSON.stringify(name)}`);
    return { api_spec: name as ApiSpecCheck };
  }
  if (!Object.hasOwn(set.macros, name)) return context.report(value, 'WP_ERR_RULE_INVALID', `unknown macro "${name}"; define it under macros:`);
  return { macro: name };
}

function stringList(node: ConfigNode | undefined, context: ParseContext): string[] | undefined {
  if (!node) return undefined;
  if (node.kind === 'scalar' && node.value !== null) return [node.text];
  return list(string({ allowEmpty: true })).parse(node, context);
}

function numberValue(node: ConfigNode | undefined, context: ParseContext): number | undefined {
  if (!node) return undefined;
  if (node.kind === 'scalar' && typeof node.value === 'number') return node.value;
  return context.invalid(node, 'a number');
}

function parseFieldCondition(node: MapNode, set: RuleSet, context: ParseContext): FieldCondition | undefined {
  const before = context.issues.length;
  const parsed = fieldConditionSchema.parse(node, context) as Infer<typeof fieldConditionSchema> | undefined;
  if (!parsed) return undefined;
  const field = parsed.field as string;
  checkField(field, node.entries.get('field') as ConfigNode, context);
  const operators = [...node.entries.keys()].filter((key) => FIELD_OPERATORS.includes(key));
  if (operators.length === 0) context.report(node, 'WP_ERR_RULE_INVALID', `condition on "${field}" needs an operator: ${FIELD_OPERATORS.join(', ')}`);
  const condition: FieldCondition = { field, ignore_case: parsed.ignore_case };
  const entry = (key: string) => node.entries.get(key);
  const equals = entry('equals');
  if (equals?.kind === 'scalar') condition.equals = equals.value === null ? '' : typeof equals.value === 'string' ? equals.text : equals.value;
  else if (equals) context.invalid(equals, 'a string, number or boolean');
  if (parsed.in) condition.in = (parsed.in as unknown[]).map((value) => (typeof value === 'number' ? value : String(value)));
  if (parsed.in_list !== undefined) {
    if (!Object.hasOwn(set.lists, parsed.in_list)) context.report(entry('in_list') as ConfigNode, 'WP_ERR_RULE_INVALID', `unknown list "${parsed.in_list}"; define it under lists:`);
    condition.in_list = parsed.in_list;
  }
  condition.contains = stringList(entry('contains'), context);
  condition.starts_with = stringList(entry('starts_with'), context);
  condition.ends_with = stringList(entry('ends_with'), context);
  if (parsed.regex !== undefined) {
    const problem = checkRegexSafety(parsed.regex) ?? (parsed.ignore_case === true ? checkFoldable(parsed.regex) : undefined);
    if (problem) context.report(entry('regex') as ConfigNode, 'WP_ERR_RULE_INVALID', problem);
    condition.regex = parsed.regex;
  }
  condition.cidr = stringList(entry('cidr'), context);
  for (const [index, text] of (condition.cidr ?? []).entries()) {
    if (!parseCidr(text)) context.report(entry('cidr') as ConfigNode, 'WP_ERR_RULE_INVALID', `cidr[${index}]: invalid address range "${text}"; expected a form such as 10.0.0.0/8`);
  }
  condition.exists = parsed.exists;
  for (const key of ['gt', 'gte', 'lt', 'lte'] as const) condition[key] = numberValue(entry(key), context);
  for (const key of Object.keys(condition) as (keyof FieldCondition)[]) if (condition[key] === undefined) delete condition[key];
  return context.issues.length > before ? undefined : condition;
}

/** Keys of a test event that are not event fields: when, and how often, the event happens. */
const TEST_EVENT_KEYS = ['time', 'repeat', 'every'];

/**
 * Reports a test event key that is a misspelt event field (`http.request.methd`): such a key is
 * an attribute no rule reads, so the test would pass or fail for the wrong reason. Other unknown
 * keys stay allowed, since rules may read any attribute.
 */
function checkTestEventFields(testNode: ConfigNode, context: ParseContext): void {
  const events = testNode.kind === 'map' ? testNode.entries.get('events') : undefined;
  if (events?.kind !== 'seq') return;
  const known = [...Object.keys(EVENT_FIELDS), ...TEST_EVENT_KEYS];
  for (const event of events.items) {
    if (event.kind !== 'map') continue;
    for (const key of event.entries.keys()) {
      if (Object.hasOwn(EVENT_FIELDS, key) || TEST_EVENT_KEYS.includes(key) || key.startsWith(HEADER_FIELD_PREFIX)) continue;
      const suggestion = closest(key, known);
      if (suggestion) context.report({ path: childPath(event.path, key), file: event.file, line: event.keyLines.get(key) ?? event.line }, 'WP_ERR_RULE_INVALID', `test event field "${key}" is not an event field; did you mean "${suggestion}"?`);
    }
  }
}
