import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../core/logger.js';
import type { Finding } from '../../../core/data/finding.js';
import { MetricsRegistry } from '../../../core/telemetry/metrics.js';
import { DetectionEngine, fingerprint } from '../../../processors/detection/engine.js';
import type { Rule, Trigger } from '../../../processors/detection/rules/types.js';
import type { EventMatch } from '../../../processors/detection/worker.js';

const T0 = Date.UTC(2024, 0, 1);

function rule(id: string, trigger: Trigger, overrides: Partial<Rule> = {}): Rule {
  return {
    id, name: id, description: '', severity: 'high', confidence: 'medium', tags: [], when: { detector: 'sqli' },
    group_by: ['client.address'], trigger, suppress: 60_000, tests: [], source: { file: 'test.yaml', line: 1 }, ...overrides,
  };
}

function match(seconds: number, fields: Record<string, string | number> = {}, marks = 0): EventMatch {
  return { rules: [0], marks: [marks], time: T0 + seconds * 1000, fields: { 'client.address': '203.0.113.7', ...fields }, summary: 'GET /x', details: [] };
}

function engineFor(rules: Rule[], options: { now?: () => number; maxKeys?: number; registry?: MetricsRegistry } = {}): { engine: DetectionEngine; findings: Finding[] } {
  const findings: Finding[] = [];
  const evictions = options.registry?.counter('evictions_total', 'evictions');
  const engine = new DetectionEngine({
    rules, source: 'detection', maxKeysPerRule: options.maxKeys ?? 1000, emit: (emitted) => findings.push(...emitted),
    logger: silentLogger(), now: options.now ?? (() => 0), evictions,
  });
  return { engine, findings };
}

describe('detection engine', () => {
  it('raises one finding per key and counts repeats into it', () => {
    const { engine, findings } = engineFor([rule('single', { kind: 'single' })]);

    engine.process([match(0), match(10), match(20)]);
    engine.process([match(120)]);

    expect(findings.map((finding) => finding.status)).toEqual(['new', 'update', 'new']);
    expect(findings[1].count).toBe(3);
    expect(findings[1].first_seen).toBe('2024-01-01T00:00:00.000Z');
    expect(findings[1].last_seen).toBe('2024-01-01T00:00:20.000Z');
    expect(findings[0].fingerprint).toBe(fingerprint('single', '203.0.113.7'));
    expect(findings[2].fingerprint).toBe(findings[0].fingerprint);
  });

  it('ends suppression by wall clock when no event arrives', () => {
    let wall = 0;
    const { engine, findings } = engineFor([rule('single', { kind: 'single' })], { now: () => wall });

    engine.process([match(0), match(1)]);
    wall = 120_000;
    engine.advance();

    expect(findings.map((finding) => finding.status)).toEqual(['new', 'update']);
  });

  it('counts within a sliding window only', () => {
    const { engine, findings } = engineFor([rule('count', { kind: 'count', window: 60_000, threshold: 3 })]);

    engine.process([match(0), match(50), match(100), match(105)]);

    expect(findings).toHaveLength(1);
    expect(findings[0].count).toBe(3);
    expect(findings[0].first_seen).toBe('2024-01-01T00:00:50.000Z');
  });

  it('keeps keys apart', () => {
    const { engine, findings } = engineFor([rule('count', { kind: 'count', window: 60_000, threshold: 2 })]);

    engine.process([match(0), match(1, { 'client.address': '198.51.100.1' })]);

    expect(findings).toHaveLength(0);
  });

  it('requires the share condition on distinct values', () => {
    const trigger: Trigger = { kind: 'distinct', field: 'object.id', window: 600_000, threshold: 4, share: { when: { detector: 'xss' }, min: 0.5 } };
    const { engine, findings } = engineFor([rule('distinct', trigger)]);

    engine.process([match(0, { 'object.id': '1' }, 0), match(1, { 'object.id': '2' }, 0), match(2, { 'object.id': '3' }, 0), match(3, { 'object.id': '4' }, 1)]);
    expect(findings).toHaveLength(0);

    engine.process([match(4, { 'object.id': '5' }, 1), match(5, { 'object.id': '6' }, 1)]);
    expect(findings).toHaveLength(1);
    expect(findings[0].evidence.at(-1)?.detail).toContain('6 distinct object.id values; 50% of them matched');
  });

  it('fires on consecutive ids', () => {
    const trigger: Trigger = { kind: 'distinct', field: 'object.id', window: 600_000, threshold: 5, sequential: 4 };
    const { engine, findings } = engineFor([rule('sequential', trigger)]);

    engine.process(['7', '19', '20', '21', '22'].map((id, index) => match(index, { 'object.id': id })));

    expect(findings).toHaveLength(1);
    expect(findings[0].evidence.at(-1)?.detail).toContain('4 consecutive values');
  });

  it('lets a leaky bucket drain', () => {
    const { engine, findings } = engineFor([rule('bucket', { kind: 'bucket', capacity: 10, leakRate: 1 })]);

    engine.process(Array.from({ length: 10 }, (_, index) => match(index * 0.1)));
    engine.process(Array.from({ length: 10 }, (_, index) => match(20 + index * 0.1)));
    expect(findings).toHaveLength(0);

    engine.process(Array.from({ length: 12 }, (_, index) => match(40 + index * 0.1)));
    expect(findings).toHaveLength(1);
  });

  it('fires a sequence and starts over on an early last step', () => {
    const trigger: Trigger = { kind: 'sequence', within: 600_000, steps: [{ when: { detector: 'sqli' }, count: 3 }, { when: { detector: 'xss' }, count: 1 }] };
    const { engine, findings } = engineFor([rule('sequence', trigger)]);

    engine.process([match(0, {}, 1), match(1, {}, 1), match(2, {}, 2), match(3, {}, 1), match(4, {}, 1)]);
    expect(findings).toHaveLength(0);

    engine.process([match(5, {}, 1), match(6, {}, 2)]);
    expect(findings).toHaveLength(1);
    expect(findings[0].count).toBe(4);
    expect(findings[0].first_seen).toBe('2024-01-01T00:00:03.000Z');
  });

  it('closes a baseline interval when event time passes it', () => {
    const trigger: Trigger = { kind: 'baseline', metric: 'error_rate', interval: 60_000, minVolume: 10, factor: 3, warmup: 2, minValue: 0.1 };
    const { engine, findings } = engineFor([rule('errors', trigger, { group_by: ['http.route'] })]);
    const request = (second: number, status: number, route = '/cart') => match(second, { 'http.route': route, 'http.response.status_code': status });

    engine.process(Array.from({ length: 180 }, (_, second) => request(second, second % 60 === 0 ? 500 : 200)));
    engine.process(Array.from({ length: 60 }, (_, index) => request(180 + index, index % 2 === 0 ? 500 : 200)));
    expect(findings).toHaveLength(0);

    engine.process([request(300, 200, '/other')]);
    expect(findings).toHaveLength(1);
    expect(findings[0].key).toEqual({ 'http.route': '/cart' });
    expect(findings[0].actor).toEqual({});
    expect(findings[0].evidence.at(-1)?.detail).toMatch(/50\.0% server errors over 60 requests/);
  });

  it('evicts the least recently used key and counts it', () => {
    const registry = new MetricsRegistry();
    const { engine } = engineFor([rule('count', { kind: 'count', window: 60_000, threshold: 5 })], { maxKeys: 2, registry });

    engine.process(['a', 'b', 'c'].map((address, index) => match(index, { 'client.address': address })));

    expect(engine.keys('count')).toBe(2);
    expect(registry.render()).toMatch(/evictions_total\{rule="count",source="detection",state="window"\} 1/);
  });

  it('continues a window after restoring a snapshot', () => {
    const rules = [rule('count', { kind: 'count', window: 60_000, threshold: 4 })];
    const first = engineFor(rules);
    first.engine.process([match(0), match(1)]);

    const second = engineFor(rules);
    second.engine.restore(structuredClone(first.engine.snapshot()));
    second.engine.process([match(2), match(3)]);

    expect(second.findings).toHaveLength(1);
    expect(second.findings[0].count).toBe(4);
  });

  it('ignores saved state of a rule that changed', () => {
    const first = engineFor([rule('count', { kind: 'count', window: 60_000, threshold: 4 })]);
    first.engine.process([match(0), match(1), match(2)]);

    const second = engineFor([rule('count', { kind: 'count', window: 60_000, threshold: 5 })]);
    second.engine.restore(first.engine.snapshot());
    second.engine.process([match(3), match(4)]);

    expect(second.findings).toHaveLength(0);
  });

  it('drops restored state when older events arrive', () => {
    const rules = [rule('count', { kind: 'count', window: 60_000, threshold: 3 })];
    const first = engineFor(rules);
    first.engine.process([match(3600), match(3601)]);

    const second = engineFor(rules);
    second.engine.restore(first.engine.snapshot());
    second.engine.process([match(0), match(1)]);

    expect(second.findings).toHaveLength(0);
    expect(second.engine.keys('count')).toBe(1);
  });

  it('keeps active findings across a restore', () => {
    const rules = [rule('single', { kind: 'single' })];
    const first = engineFor(rules);
    first.engine.process([match(0), match(5)]);
    first.engine.emitPendingUpdates();

    const second = engineFor(rules);
    second.engine.restore(first.engine.snapshot());
    second.engine.process([match(10)]);
    second.engine.flush();

    expect(first.findings.map((finding) => finding.status)).toEqual(['new', 'update']);
    expect(second.findings.map((finding) => [finding.status, finding.count])).toEqual([['update', 3]]);
  });

  it('keeps only evidence fields of window samples', () => {
    const { engine, findings } = engineFor([rule('count', { kind: 'count', window: 60_000, threshold: 3 })]);
    const events = [0, 1, 2].map((second) => match(second, { trace_id: `trace-${second}`, span_id: `span-${second}`, 'user_agent.original': 'sqlmap/1.7', 'url.path': `/x/${second}` }));
    engine.process(events.slice(0, 2));

    const saved = engine.snapshot().rules[0].states[0][1] as { samples: EventMatch[] };
    expect(saved.samples).toHaveLength(2);
    expect(saved.samples[0].fields).toEqual({ trace_id: 'trace-0', span_id: 'span-0' });
    expect(saved.samples[0].summary).toBe('GET /x');

    engine.process([events[2]]);
    expect(findings).toHaveLength(1);
    expect(findings[0].evidence.map((evidence) => evidence.trace_id)).toEqual(['trace-0', 'trace-1', 'trace-2']);
    expect(findings[0].actor.address).toBe('203.0.113.7');
    expect(findings[0].actor.user_agent).toBe('sqlmap/1.7');
    expect(findings[0].target.path).toBe('/x/2');
  });

  it('masks secrets in the target path, route and key', () => {
    const { engine, findings } = engineFor([rule('single', { kind: 'single' }, { group_by: ['http.route'] })]);

    engine.process([match(0, { 'url.path': '/cb;jsessionid=ABCDEF0123456789', 'http.route': '/cb;jsessionid=ABCDEF0123456789' })]);

    expect(findings).toHaveLength(1);
    expect(findings[0].target.path).toBe('/cb;jsessionid=<redacted>');
    expect(findings[0].target.route).toBe('/cb;jsessionid=<redacted>');
    expect(findings[0].key).toEqual({ 'http.route': '/cb;jsessionid=<redacted>' });
  });

  it('keeps the five latest window samples in event order', () => {
    const { engine, findings } = engineFor([rule('count', { kind: 'count', window: 60_000, threshold: 8 })]);

    engine.process(Array.from({ length: 8 }, (_, second) => match(second, { trace_id: `trace-${second}` })));

    expect(findings).toHaveLength(1);
    expect(findings[0].evidence.map((evidence) => evidence.trace_id)).toEqual(['trace-3', 'trace-4', 'trace-5', 'trace-6', 'trace-7']);
  });
});
