import { silentLogger } from '../../core/logger.js';
import type { Finding } from '../../core/data/finding.js';
import { DetectionEngine } from './engine.js';
import { eventFromFields } from './event.js';
import { apiSpecFromObject } from './openapi.js';
import type { Rule, RuleSet, RuleTest } from './rules/types.js';
import { DetectionStage, type DetectionStageOptions, type EventMatch } from './worker.js';

export interface RuleTestReport {
  passed: number;
  failed: number;
  /** One line per test: `ok` or `FAIL`, the rule, the test name and, on failure, why. */
  lines: string[];
}

const TEST_START_MS = Date.UTC(2024, 0, 1);

/** The time of a test event: its `time` field (milliseconds or RFC 3339), or one second after the previous one. */
function eventTime(fields: Record<string, unknown>, index: number): number {
  const time = fields.time;
  if (typeof time === 'number') return time;
  if (typeof time === 'string') return Date.parse(time);
  return TEST_START_MS + index * 1000;
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
  test.events.forEach((fields, index) => stage.evaluate(eventFromFields(fields, eventTime(fields, index), stage.extractOptions), matches));
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
        report.lines.push(`FAIL  ${rule.id}: ${test.name}: ${problem} (${rule.source.file}:${rule.source.line})`);
      }
    }
  }
  return report;
}
