import { describe, expect, it } from 'vitest';
import { DetectionEngine } from '../../../processors/detection/engine.js';
import { DetectionStage, type EventMatch } from '../../../processors/detection/worker.js';
import { loadRules } from '../../../processors/detection/rules/load.js';
import { defaultRulesPath } from '../../../core/paths.js';
import { silentLogger } from '../../../core/logger.js';
import { SEVERITIES, type Finding } from '../../../core/data/finding.js';
import type { HttpEvent } from '../../../processors/detection/event.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function run(events: HttpEvent[]): Finding[] {
  const rules = loadRules([defaultRulesPath()]);
  const stage = new DetectionStage({ rules, markAttribute: '' });
  const findings: Finding[] = [];
  const engine = new DetectionEngine({ rules: rules.rules, source: 'detection', maxKeysPerRule: 1000, emit: (emitted) => findings.push(...emitted), logger: silentLogger() });
  const matches: EventMatch[] = [];
  for (const event of events) stage.evaluate(event, matches);
  engine.process(matches);
  engine.flush();
  return findings;
}

function attack(index: number): HttpEvent {
  return {
    time: Date.UTC(2026, 0, 1, 12, 0, index),
    'http.request.method': 'GET',
    'url.path': '/products',
    'url.query': `id=${index}' OR '1'='1&token=secret-${index}`,
    'client.address': '203.0.113.7',
    'service.name': 'shop-api',
    'http.response.status_code': 200,
    trace_id: `${index}`.padStart(32, '0'),
    span_id: `${index}`.padStart(16, '0'),
  };
}

describe('finding model', () => {
  it('carries every field a finding needs', () => {
    const [finding] = run([attack(1)]);

    expect(finding.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(finding.fingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(finding.time).toMatch(RFC3339);
    expect(finding.status).toBe('new');
    expect(finding.rule).toMatchObject({ id: 'sqli', name: 'SQL injection attempt', owasp: 'API8:2023', mitre_attack: 'T1190' });
    expect(SEVERITIES).toContain(finding.severity);
    expect(finding.actor.address).toBe('203.0.113.7');
    expect(finding.target).toMatchObject({ method: 'GET', path: '/products', service: 'shop-api' });
    expect(finding.count).toBe(1);
    expect(finding.first_seen).toBe('2026-01-01T12:00:01.000Z');
    expect(finding.last_seen).toBe('2026-01-01T12:00:01.000Z');
    expect(finding.evidence).toHaveLength(1);
    expect(finding.evidence[0].trace_id).toBe('00000000000000000000000000000001');
    expect(finding.evidence[0].span_id).toBe('0000000000000001');
    expect(finding.evidence[0].summary).toMatch(/^GET \/products\?id=1' OR '1'='1&token=<redacted> -> 200$/);
    expect(finding.action).toEqual({ type: 'ban_address', duration_seconds: 3600 });
  });

  it('keeps the fingerprint stable for the same rule and actor', () => {
    const first = run([attack(1)])[0];
    const second = run([attack(2)])[0];

    expect(second.fingerprint).toBe(first.fingerprint);
    expect(second.id).not.toBe(first.id);
  });

  it('counts repeats and keeps at most five samples', () => {
    const findings = run(Array.from({ length: 8 }, (_, index) => attack(index + 1)));
    const update = findings.find((finding) => finding.status === 'update') as Finding;

    expect(findings.filter((finding) => finding.status === 'new')).toHaveLength(1);
    expect(update.count).toBe(8);
    expect(update.first_seen).toBe('2026-01-01T12:00:01.000Z');
    expect(update.last_seen).toBe('2026-01-01T12:00:08.000Z');
    expect(update.evidence).toHaveLength(5);
  });
});
