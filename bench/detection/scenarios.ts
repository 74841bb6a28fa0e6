import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExportLogsServiceRequest } from '../../core/otlp/codec.js';
import type { Finding } from '../../core/data/finding.js';
import { silentLogger } from '../../core/logger.js';
import { lineParser } from '../../receivers/gatewaylog/worker.js';
import { lineParser as syslogLineParser } from '../../receivers/syslog/worker.js';
import { DetectionEngine } from '../../processors/detection/engine.js';
import { eventFromLogRecord } from '../../processors/detection/event.js';
import { DetectionStage, type EventMatch } from '../../processors/detection/worker.js';
import type { Rule, RuleSet } from '../../processors/detection/rules/types.js';

/*
 * The stateful half of the detection benchmark: the rows the labelled corpus took from CrowdSec's
 * scenario tests, judged the way the daemon judges a log. Each test file's raw nginx lines
 * (test/fixtures/replay/crowdsec_scenario_lines.tsv) go in file order through the gatewaylog
 * receiver's nginx_combined parser, event extraction, every rule of the pack and the stateful
 * engine, on event time. Each file starts from empty state, as CrowdSec runs each test on its own.
 *
 * A line counts as detected when a finding of an attack rule covers it: the line matched that
 * rule's condition, its key (the rule's group_by fields, usually the client address) is the
 * finding's key, and its time lies between the finding's first_seen and its last last_seen,
 * repeats included. A line that only shares an address and a time span with a finding is not
 * covered, and neither is a line counted towards a window that never reached its threshold.
 */

/** An RFC 3164 header without a priority: `Sep 15 16:13:46 host nginx[2869]: `. */
const SYSLOG_HEADER = /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [^\s:]+: /;
const SCENARIO_LINES = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'replay', 'crowdsec_scenario_lines.tsv');

/** One line of a CrowdSec scenario test, as the fixture gives it. */
interface ScenarioLine {
  label: string;
  line: string;
  /** `crowdsec-hub:.tests/<test>:<line number>`, as the labelled corpus names its rows. */
  source: string;
}

/** The replay's result for one line. */
export interface LineVerdict {
  label: string;
  /** Ids of the attack rules whose findings cover the line, empty when none does. */
  rules: string[];
}

/** Reads the fixture, grouped by test file, each file's lines in file order. */
function scenarioTests(): Map<string, ScenarioLine[]> {
  const tests = new Map<string, ScenarioLine[]>();
  const rows = readFileSync(SCENARIO_LINES, 'utf8').split('\n').slice(1).filter(Boolean);
  for (const row of rows) {
    const [label, line, source] = row.split('\t');
    const test = source.slice(0, source.lastIndexOf(':'));
    const lines = tests.get(test) ?? [];
    lines.push({ label, line, source });
    tests.set(test, lines);
  }
  for (const lines of tests.values()) lines.sort((a, b) => lineNumber(a.source) - lineNumber(b.source));
  return tests;
}

function lineNumber(source: string): number {
  return Number(source.slice(source.lastIndexOf(':') + 1));
}

/**
 * Lists the rules whose findings count as detection: not the posture rules, which report
 * hygiene, and not the baselines, whose findings judge a route over every client rather than
 * any one client's requests.
 */
export function attackRuleIndexes(rules: readonly Rule[]): Set<number> {
  const indexes = new Set<number>();
  rules.forEach((rule, index) => {
    if (!rule.tags.includes('posture') && rule.trigger.kind !== 'baseline') indexes.add(index);
  });
  return indexes;
}

/** A finding's extent: the span of event time it covers for one rule and key. */
interface Extent {
  key: Record<string, string>;
  from: number;
  to: number;
}

/** Collects each rule's finding extents. An update carries the final last_seen of its finding. */
function findingExtents(findings: Finding[]): Map<string, Extent[]> {
  const byRule = new Map<string, Extent[]>();
  for (const finding of findings) {
    const extents = byRule.get(finding.rule.id) ?? [];
    extents.push({ key: finding.key, from: Date.parse(finding.first_seen), to: Date.parse(finding.last_seen) });
    byRule.set(finding.rule.id, extents);
  }
  return byRule;
}

function covers(extent: Extent, match: EventMatch): boolean {
  if (match.time < extent.from || match.time > extent.to) return false;
  for (const [field, value] of Object.entries(extent.key)) {
    if (match.fields[field] === undefined || String(match.fields[field]) !== value) return false;
  }
  return true;
}

/** Replays one test file's lines through parsing, the stage and the engine, and returns the findings and each line's match (undefined when no rule matched). */
function replayLines(lines: ScenarioLine[], rules: RuleSet): { matches: (EventMatch | undefined)[]; findings: Finding[] } {
  const stage = new DetectionStage({ rules, markAttribute: '', apiKeyHashKey: 'bench' });
  const findings: Finding[] = [];
  const engine = new DetectionEngine({ rules: rules.rules, source: 'bench', maxKeysPerRule: 100_000, emit: (emitted) => findings.push(...emitted), logger: silentLogger() });
  // Some tests log through syslog (`nginx[2869]: 81.150.104.130 - - [...`): those lines go through
  // the syslog receiver's RFC 3164 parser with the access-log option, as a user would ingest them.
  const syslog = lines.every((line) => SYSLOG_HEADER.test(line.line));
  const parse = syslog ? syslogLineParser({ protocol: 'rfc3164', location: 'UTC', allow_skip_pri_header: true, access_log: { format: 'nginx_combined' } }) : lineParser('nginx_combined', {});
  // RFC 3164 timestamps carry no year; the parser takes the year of the time of observation.
  const request = parse(lines.map((line) => line.line), { observedMs: Date.UTC(2024, 0, 1) }).request as ExportLogsServiceRequest;
  // Both parsers make one record per line, in line order, parsed or not.
  const records = request.resourceLogs?.[0]?.scopeLogs?.[0]?.logRecords ?? [];
  if (records.length !== lines.length) throw new Error(`parsing ${lines[0]?.source}: expected ${lines.length} records, got ${records.length}`);

  const matches: (EventMatch | undefined)[] = [];
  for (const record of records) {
    const event = eventFromLogRecord(record, undefined, stage.extractOptions);
    const sink: EventMatch[] = [];
    if (event) stage.evaluate(event, sink);
    matches.push(sink[0]);
    if (sink[0]) engine.process(sink);
  }
  engine.flush();
  return { matches, findings };
}

/** Replays every CrowdSec scenario test and returns the verdict for each line, by its source. */
export function scenarioVerdicts(rules: RuleSet): Map<string, LineVerdict> {
  const attackRules = attackRuleIndexes(rules.rules);
  const verdicts = new Map<string, LineVerdict>();
  for (const lines of scenarioTests().values()) {
    const { matches, findings } = replayLines(lines, rules);
    const extents = findingExtents(findings);
    lines.forEach((line, position) => {
      const match = matches[position];
      const covering: string[] = [];
      for (const index of match?.rules ?? []) {
        if (!attackRules.has(index)) continue;
        const rule = rules.rules[index];
        if ((extents.get(rule.id) ?? []).some((extent) => covers(extent, match as EventMatch))) covering.push(rule.id);
      }
      verdicts.set(line.source, { label: line.label, rules: covering });
    });
  }
  return verdicts;
}
