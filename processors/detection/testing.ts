import { silentLogger } from '../../core/logger.js';
import type { Finding } from '../../core/data/finding.js';
import { DetectionEngine } from './engine.js';
import type { HttpEvent } from './event.js';
import type { RuleSet } from './rules/types.js';
import { DetectionStage, type EventMatch } from './worker.js';

export interface RuleTestReport {
  passed: number;
  failed: number;
  /** One line per test: `ok` or `FAIL`, the rule, the test name and, on failure, why. */
  lines: string[];
}

const TEST_START_MS = Date.UTC(2024, 0, 1);

/** Builds an event from a rule test's field map; events without a time are one second apart. */
function toEvent(fields: Record<string, unknown>, index: number): HttpEvent {
  const event: Record<string, unknown> = { ...fields };
  const time = fields.time;
  event.time = typeof time === 'number' ? time : typeof time === 'string' ? Date.parse(time) : TEST_START_MS + index * 1000;
  return event as unknown as HttpEvent;
}

/**
 * Runs every rule's `tests:` through the same stateless and stateful code as the daemon, with
 * only that rule loaded, and compares the number of new findings with `expect_findings`.
 */
export function runRuleTests(set: RuleSet): RuleTestReport {
  const report: RuleTestReport = { passed: 0, failed: 0, lines: [] };
  for (const rule of set.rules) {
    for (const test of rule.tests) {
      const single: RuleSet = { ...set, rules: [rule] };
      const stage = new DetectionStage({ rules: single, markAttribute: '' });
      const findings: Finding[] = [];
      const engine = new DetectionEngine({ rules: [rule], source: 'test-rules', maxKeysPerRule: 10_000, emit: (emitted) => findings.push(...emitted), logger: silentLogger() });
      const matches: EventMatch[] = [];
      test.events.forEach((fields, index) => stage.evaluate(toEvent(fields, index), matches));
      engine.process(matches);
      const fresh = findings.filter((finding) => finding.status === 'new').length;
      if (fresh === test.expect_findings) {
        report.passed++;
        report.lines.push(`ok    ${rule.id}: ${test.name}`);
      } else {
        report.failed++;
        report.lines.push(`FAIL  ${rule.id}: ${test.name}: expected ${test.expect_findings} finding(s), got ${fresh} (${rule.source.file}:${rule.source.line})`);
      }
    }
  }
  return report;
}
