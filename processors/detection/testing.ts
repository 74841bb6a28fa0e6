import { silentLogger } from '../../core/logger.js';
import { parseDuration } from '../../core/config/duration.js';
import type { Finding } from '../../core/data/finding.js';
import { DetectionEngine } from './engine.js';
import { eventFromFields } from './event.js';
import { apiSpecFromObject } from './openapi-load.js';
import type { Rule, RuleSet, RuleTest } from './rules/types.js';
import { DetectionStage, type DetectionStageOptions, type EventMatch } from './worker.js';

export interface RuleTestReport {
  passed: number;
  failed: number;
  /** One line per test: `ok` or `FAIL`, the rule, the test name and, on failure, why. */
  lines: string[];
}

const TEST_START_MS = Date.UTC(2024, 0, 1);
/** Copies one test event may expand into. */
const MAX_REPEAT = 10_000;

/**
 * Expands test events into timed field maps. `time` (milliseconds or RFC 3339) sets an event's
 * time; otherwise it comes `every` (a duration, default 1s) after the previous event. `repeat: n`
 * sends n copies, and `{n}` in a string value becomes the copy's number, so one line can send
 * a hundred requests for a hundred different paths.
 */
export function expandTestEvents(events: Record<string, unknown>[]): { fields: Record<string, unknown>; time: number }[] {
  const expanded: { fields: Record<string, unknown>; time: number }[] = [];
  let time = TEST_START_MS - 1000;
  for (const event of events) {
    const { repeat, every, time: given, ...fields } = event;
    const count = typeof repeat === 'number' && Number.isInteger(repeat) && repeat > 0 ? Math.min(repeat, MAX_REPEAT) : 1;
    let step = 1000;
    if (typeof every === 'number') step = every;
    else if (typeof every === 'string') step = parseDuration(every) ?? 1000;
    for (let i = 0; i < count; i++) {
      if (i === 0 && typeof given === 'number') time = given;
      else if (i === 0 && typeof given === 'string') time = Date.parse(given);
      else time += step;
      const copy: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(fields)) copy[key] = typeof value === 'string' && count > 1 ? value.replaceAll('{n}', String(i)) : value;
      expanded.push({ fields: copy, time });
    }
  }
  return expanded;
}

/** Reads a dotted path from a finding; a key may itself contain dots (`key.client.address`). */
export function findingValue(finding: unknown, path: string): unknown {
  let current: unknown = finding;
  let rest = path;
  while (rest.length > 0) {
    if (current === null || typeof current !== 'object') return undefined;
    const record = current as Record<string, unknown>;
    if (Object.hasOwn(record, rest)) return record[rest];
    const dot = rest.indexOf('.');
    if (dot < 0) return undefined;
    let matched = false;
    for (let end = rest.lastIndexOf('.'); end > 0; end = rest.lastIndexOf('.', end - 1)) {
      const head = rest.slice(0, end);
      if (Object.hasOwn(record, head)) {
        current = record[head];
        rest = rest.slice(end + 1);
        matched = true;
        break;
      }
    }
    if (!matched) return undefined;
  }
  return current;
}

/** Compares a finding with a test's `expect` map; returns the mismatches. */
function mismatches(finding: Finding | undefined, expected: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [path, value] of Object.entries(expected)) {
    const actual = finding ? findingValue(finding, path) : undefined;
    if (JSON.stringify(actual) !== JSON.stringify(value) && String(actual) !== String(value)) problems.push(`${path} is ${JSON.stringify(actual)}, expected ${JSON.stringify(value)}`);
  }
  return problems;
}

/** Runs one test of one rule through the same stateless and stateful code as the daemon; returns the problem or undefined. */
export function runRuleTest(set: RuleSet, rule: Rule, test: RuleTest, options: Partial<DetectionStageOptions> = {}): string | undefined {
  const stageOptions: DetectionStageOptions = {
    apiKeyHashKey: 'watchpost-rule-tests',
    identitySources: [{ type: 'attribute', name: 'user.id' }, { type: 'jwt_sub', name: 'authorization' }],
    apiKeyHeaders: ['x-api-key'],
    apiKeyQueryParameters: ['api_key', 'apikey'],
    ...options,
    rules: { ...set, rules: [rule] },
    markAttribute: '',
    apiSpec: test.openapi !== undefined ? apiSpecFromObject(test.openapi, `test "${test.name}"`) : options.apiSpec,
  };
  const stage = new DetectionStage(stageOptions);
  const findings: Finding[] = [];
  const engine = new DetectionEngine({ rules: [rule], source: 'test-rules', maxKeysPerRule: 10_000, emit: (emitted) => findings.push(...emitted), logger: silentLogger() });
  const matches: EventMatch[] = [];
  for (const { fields, time } of expandTestEvents(test.events)) stage.evaluate(eventFromFields(fields, time, stage.extractOptions), matches);
  engine.process(matches);
  engine.advance();
  const fresh = findings.filter((finding) => finding.status === 'new');
  if (fresh.length !== test.expect_findings) return `expected ${test.expect_findings} finding(s), got ${fresh.length}`;
  const problems = test.expect ? mismatches(fresh[0], test.expect) : [];
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/**
 * Runs every rule's `tests:` with only that rule loaded and compares the new findings with
 * `expect_findings`, and the first one with `expect`.
 */
export function runRuleTests(set: RuleSet, options: Partial<DetectionStageOptions> = {}): RuleTestReport {
  const report: RuleTestReport = { passed: 0, failed: 0, lines: [] };
  for (const rule of set.rules) {
    for (const test of rule.tests) {
      let problem: string | undefined;
      try {
        problem = runRuleTest(set, rule, test, options);
      } catch (error) {
        problem = `failed to run: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (problem === undefined) {
        report.passed++;
        report.lines.push(`ok    ${rule.id}: ${test.name}`);
      } else {
        report.failed++;
        report.lines.push(`FAIL  ${rule.id}: ${test.name}: ${problem} (${rule.source.file}:${test.line ?? rule.source.line})`);
      }
    }
  }
  return report;
}
