import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../core/data/finding.js';
import { mergeDefaults } from '../../../core/config/schema.js';
import { globMatch } from '../../../exporters/helper/enforcement/glob.js';
import { defaultPolicyConfig, EnforcementPolicy, normalizeAddress, type OffenseHistory, type PolicyConfig } from '../../../exporters/helper/enforcement/policy.js';
import { fixtureFindings } from '../harness.js';

const NOW = Date.parse('2026-12-04T11:00:00.000Z');

function policy(overrides: Record<string, unknown> = {}): EnforcementPolicy {
  return new EnforcementPolicy(mergeDefaults(defaultPolicyConfig(), overrides) as PolicyConfig);
}

function decide(target: EnforcementPolicy, finding: Finding, history?: OffenseHistory) {
  return target.decide(finding, () => history, NOW);
}

describe('EnforcementPolicy', () => {
  it('bans the address for the suggested duration', () => {
    const result = decide(policy(), fixtureFindings()[0]);

    expect('decision' in result).toBe(true);
    if (!('decision' in result)) return;
    expect(result.decision.scope).toBe('ip');
    expect(result.decision.value).toBe('203.0.113.7');
    expect(result.decision.duration_seconds).toBe(3600);
    expect(result.decision.until).toBe('2026-12-04T12:00:00.000Z');
    expect(result.decision.offense).toBe(1);
    expect(result.decision.scenario).toBe('sqli');
    expect(result.decision.dry_run).toBe(false);
  });

  it('uses ban_duration when the finding suggests none', () => {
    const finding = { ...fixtureFindings()[0], action: undefined };

    const result = decide(policy({ ban_duration: 7_200_000 }), finding);

    expect('decision' in result && result.decision.duration_seconds).toBe(7200);
  });

  it('doubles the ban of a repeat offender up to max_duration', () => {
    const target = policy({ max_duration: 3 * 3_600_000 });
    const finding = fixtureFindings()[0];

    const second = decide(target, finding, { count: 1, last_at: NOW - 60_000 });
    const third = decide(target, finding, { count: 2, last_at: NOW - 60_000 });

    expect('decision' in second && second.decision.duration_seconds).toBe(7200);
    expect('decision' in second && second.decision.offense).toBe(2);
    expect('decision' in third && third.decision.duration_seconds).toBe(10_800);
  });

  it('counts findings from the same events as one offense', () => {
    const finding = fixtureFindings()[0];
    const eventAt = Date.parse(finding.time);

    const sameRequest = decide(policy(), finding, { count: 1, last_at: NOW - 10, event_at: eventAt });
    const laterRequest = decide(policy(), finding, { count: 1, last_at: NOW - 10, event_at: eventAt - 1000 });

    expect('decision' in sameRequest).toBe(true);
    expect('decision' in laterRequest).toBe(true);
    if (!('decision' in sameRequest) || !('decision' in laterRequest)) return;
    expect(sameRequest.decision.offense).toBe(1);
    expect(sameRequest.decision.duration_seconds).toBe(3600);
    expect(laterRequest.decision.offense).toBe(2);
    expect(laterRequest.decision.duration_seconds).toBe(7200);
  });

  it('forgets offenses older than repeat_window', () => {
    const result = decide(policy(), fixtureFindings()[0], { count: 3, last_at: NOW - 2 * 86_400_000 });

    expect('decision' in result && result.decision.offense).toBe(1);
    expect('decision' in result && result.decision.duration_seconds).toBe(3600);
  });

  it.each([
    ['below_min_severity', { min_severity: 'critical' }, fixtureFindings()[0]],
    ['below_min_confidence', { min_confidence: 'high' }, fixtureFindings()[1]],
    ['alert_only', {}, { ...fixtureFindings()[0], action: { type: 'alert' as const } }],
    ['scope_disabled', {}, { ...fixtureFindings()[3], severity: 'high' as const, confidence: 'high' as const }],
    ['no_actor', { scopes: ['identity'] }, { ...fixtureFindings()[0], action: undefined }],
  ])('skips with %s', (reason, overrides, finding) => {
    expect(decide(policy(overrides), finding)).toEqual({ skipped: reason });
  });

  it.each([
    ['a CIDR', { cidrs: ['203.0.113.0/24'] }, fixtureFindings()[0]],
    ['an IPv6 CIDR', { cidrs: ['2001:db8::/32'] }, fixtureFindings()[1]],
    ['loopback by default', undefined, { ...fixtureFindings()[0], actor: { address: '::ffff:127.0.0.1' } }],
    ['an identity', { identities: ['user-42'] }, { ...fixtureFindings()[3], severity: 'high' as const, confidence: 'high' as const }],
    ['a route pattern', { routes: ['/prod*'] }, fixtureFindings()[0]],
  ])('never bans an actor allowed by %s', (_name, allow, finding) => {
    const target = policy(allow ? { allow: { ...defaultPolicyConfig().allow, ...allow } } : {});

    expect(decide(target, finding)).toEqual({ skipped: 'allow_listed' });
  });

  it('bans an identity when the policy allows that scope', () => {
    const finding = { ...fixtureFindings()[3], severity: 'high' as const, confidence: 'high' as const };

    const result = decide(policy({ scopes: ['ip', 'identity'] }), finding);

    expect('decision' in result && result.decision.scope).toBe('identity');
    expect('decision' in result && result.decision.value).toBe('user-42');
  });

  it('marks decisions in dry-run mode', () => {
    const result = decide(policy({ dry_run: true }), fixtureFindings()[0]);

    expect('decision' in result && result.decision.dry_run).toBe(true);
  });
});

describe('normalizeAddress', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:DB8:0:0:0:0:0:7', '2001:db8::7'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['[::1]', '::1'],
    ['not an address', undefined],
    ['203.0.113.7; rm -rf /', undefined],
  ])('%s becomes %s', (input, expected) => {
    expect(normalizeAddress(input)).toBe(expected);
  });
});

describe('globMatch', () => {
  it.each([
    ['/health*', '/healthz', true],
    ['/health*', '/api/health', false],
    ['*/internal/*', '/v1/internal/jobs', true],
    ['/orders/*/items', '/orders/17/items', true],
    ['/orders/*/items', '/orders/17/items/3', false],
    ['/exact', '/exact', true],
    ['*', '', true],
  ])('%s against %s is %s', (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected);
  });

  it('rejects a long near-miss path without giving up', () => {
    const text = `/${'a'.repeat(20_000)}`;

    expect(globMatch('*a*a*a*a*b', text)).toBe(false);
  });
});
