import { describe, expect, it } from 'vitest';
import { defaultRulesPath } from '../../../core/paths.js';
import { loadRules } from '../../../processors/detection/rules/load.js';
import { DetectionStage, type EventMatch } from '../../../processors/detection/worker.js';
import { requestEvent, rowsLabeled } from '../../helpers/attack-corpus.js';

/*
 * The default rule pack, as the daemon runs it, against the labelled corpus: a row counts as
 * detected when a single-request rule other than the posture ones fires. The floors are the
 * recall target (95%) where the pack meets it, and just under today's figure elsewhere. The rows
 * still missed, and why, are listed in bench/detection.md.
 */
const rules = loadRules([defaultRulesPath()]);
const stage = new DetectionStage({ rules, markAttribute: '', apiKeyHashKey: 'pack-recall' });
const attackRules = new Set(rules.rules.flatMap((rule, index) => (rule.trigger.kind === 'single' && !rule.tags.includes('posture') ? [index] : [])));

function flagged(label: string): { hit: number; total: number; sources: string[] } {
  const rows = rowsLabeled(label);
  const sources: string[] = [];
  for (const row of rows) {
    const matches: EventMatch[] = [];
    stage.evaluate(requestEvent(row, stage.extractOptions), matches);
    if (matches.some((match) => match.rules.some((index) => attackRules.has(index)))) sources.push(row.source);
  }
  return { hit: sources.length, total: rows.length, sources };
}

describe('default pack against the labelled corpus', () => {
  it.each([
    ['sqli', 0.95],
    ['xss', 0.95],
    ['lfi', 0.95],
    ['rce', 0.88],
  ])('finds %s rows', (label, floor) => {
    const { hit, total } = flagged(label);

    expect(hit / total).toBeGreaterThanOrEqual(floor);
  });

  it('flags no benign row', () => {
    expect(flagged('benign').sources).toEqual([]);
  });
});
