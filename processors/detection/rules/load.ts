import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { childPath, parseConfigYaml, type ConfigIssue, type ConfigNode, type MapNode } from '../../../core/config/node.js';
import {
  anyValue, boolean, duration, integer, list, object, ParseContext, record, string, union, unknownKey, type Infer,
} from '../../../core/config/schema.js';
import { CONFIDENCES, SEVERITIES } from '../../../core/data/finding.js';
import { parseCidr } from '../../../core/cidr.js';
import { DETECTORS } from '../detectors/index.js';
import { EVENT_FIELDS } from '../event.js';
import { checkRegexSafety } from './regex.js';
import type { Condition, FieldCondition, Rule, RuleSet } from './types.js';

const DEFAULT_SUPPRESS_MS = 10 * 60_000;

const actionSchema = object({
  type: string({ enum: ['ban_address', 'ban_identity', 'ban_api_key', 'alert'] as const }),
  duration: duration({ min: 1000 }),
}, { required: ['type'] });

const testSchema = object({
  name: string(),
  events: list(record(anyValue()), { minItems: 1 }),
  expect_findings: integer({ min: 0 }),
}, { required: ['name', 'events', 'expect_findings'] });

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
    super(`invalid detection rules:\n${issues.map((issue) => `  ${issue.path}: ${issue.message} (${issue.file}:${issue.line})`).join('\n')}`);
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

function parseRule(node: ConfigNode, file: string, set: RuleSet, context: ParseContext): Rule | undefined {
  const before = context.issues.length;
  const parsed = ruleSchema.parse(node, context) as Infer<typeof ruleSchema> | undefined;
  if (!parsed || node.kind !== 'map') return undefined;
  const when = parseCondition(node.entries.get('when') as ConfigNode, set, context);
  const groupBy = parsed.group_by ?? ['client.address'];
  for (const [index, field] of groupBy.entries()) checkField(field, childPath(childPath(node.path, 'group_by'), index), node, context);
  if (parsed.distinct) checkField(parsed.distinct, childPath(node.path, 'distinct'), node, context);
  if ((parsed.threshold ?? 1) > 1 && !parsed.window) {
    context.report(node, 'WP_ERR_RULE_INVALID', `rule "${parsed.id}" has threshold ${parsed.threshold} but no window; add a window such as 1m`);
  }
  if (!when || context.issues.length > before) return undefined;
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
    window: parsed.window ?? 0,
    threshold: parsed.threshold ?? 1,
    distinct: parsed.distinct,
    suppress: parsed.suppress ?? DEFAULT_SUPPRESS_MS,
    action: parsed.action ? { type: parsed.action.type as NonNullable<Rule['action']>['type'], duration_seconds: parsed.action.duration !== undefined ? parsed.action.duration / 1000 : undefined } : undefined,
    tests: (parsed.tests ?? []).map((test) => ({ name: test.name as string, events: test.events as Record<string, unknown>[], expect_findings: test.expect_findings as number })),
    source: { file, line: node.line },
  };
}

function checkField(field: string, path: string, node: ConfigNode, context: ParseContext): void {
  if (!Object.hasOwn(EVENT_FIELDS, field)) {
    context.report({ path, file: node.file, line: node.line }, 'WP_ERR_RULE_INVALID', `unknown event field "${field}"; known fields: ${Object.keys(EVENT_FIELDS).join(', ')}`);
  }
}

const COMBINATORS = ['all', 'any', 'not', 'detector', 'macro'];
const FIELD_OPERATORS = ['equals', 'in', 'in_list', 'contains', 'starts_with', 'ends_with', 'regex', 'cidr', 'exists', 'gt', 'gte', 'lt', 'lte'];
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
  if (node.kind !== 'map') return context.invalid(node, 'a condition map (field, all, any, not, detector or macro)');
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
  checkField(field, childPath(node.path, 'field'), node, context);
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
    const problem = checkRegexSafety(parsed.regex);
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
