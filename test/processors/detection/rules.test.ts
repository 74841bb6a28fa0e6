import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { defaultRulesPath } from '../../../core/paths.js';
import { loadRules, RuleLoadError } from '../../../processors/detection/rules/load.js';
import { runRuleTests } from '../../../processors/detection/testing.js';
import { checkFoldable, checkRegexSafety } from '../../../processors/detection/rules/regex.js';
import { compileCondition } from '../../../processors/detection/rules/condition.js';
import type { RuleSet } from '../../../processors/detection/rules/types.js';
import { eventFromFields } from '../../../processors/detection/event.js';
import { EventView } from '../../../processors/detection/view.js';
import { tempDirectory } from '../../helpers/tmp.js';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'detection', 'rules');

function emptyRuleSet(): RuleSet {
  return { rules: [], lists: {}, macros: {} };
}

function loadError(file: string): RuleLoadError {
  try {
    loadRules([join(FIXTURES, file)]);
  } catch (error) {
    if (error instanceof RuleLoadError) return error;
    throw error;
  }
  throw new Error(`${file} loaded without errors`);
}

describe('default rule pack', () => {
  it('passes every rule test', () => {
    const report = runRuleTests(loadRules([defaultRulesPath()]));

    expect(report.lines.filter((line) => line.startsWith('FAIL'))).toEqual([]);
    expect(report.passed).toBeGreaterThan(80);
  });

  it('gives every rule a positive and a negative test', () => {
    const set = loadRules([defaultRulesPath()]);

    for (const rule of set.rules) {
      expect(rule.tests.some((test) => test.expect_findings > 0), `${rule.id} has no test that expects a finding`).toBe(true);
      expect(rule.tests.some((test) => test.expect_findings === 0), `${rule.id} has no test that expects none`).toBe(true);
    }
  });

  it('tags every rule with OWASP and ATT&CK', () => {
    const set = loadRules([defaultRulesPath()]);

    for (const rule of set.rules) {
      expect(rule.owasp, rule.id).toMatch(/^API\d+:2023$/);
      expect(rule.mitre_attack, rule.id).toMatch(/^T\d{4}/);
    }
  });

  it('covers the rules the issue lists', () => {
    const ids = loadRules([defaultRulesPath()]).rules.map((rule) => rule.id);

    for (const id of ['not-found-probing', 'aggressive-crawl', 'scanner-user-agent', 'sensitive-file', 'sqli', 'xss', 'path-traversal',
      'command-injection', 'template-injection', 'jndi-lookup', 'ssrf', 'login-brute-force', 'credential-stuffing', 'distributed-brute-force',
      'account-takeover', 'bola-enumeration', 'bola-sequential-ids', 'bfla-admin-route', 'rate-abuse-identity', 'rate-abuse-address',
      'expensive-parameters', 'credentials-in-url', 'weak-jwt', 'error-spike', 'latency-spike', 'shadow-endpoint', 'zombie-endpoint']) {
      expect(ids).toContain(id);
    }
  });

  it('reports a failing rule test with its file and the test line', () => {
    const set = loadRules([join(FIXTURES, 'failing_test.yaml')]);

    const report = runRuleTests(set);

    expect(report.failed).toBe(1);
    expect(report.lines[0]).toMatch(/^FAIL {2}sqli-copy: a harmless value: expected 0 finding\(s\), got 1 \(.*failing_test\.yaml:8\)$/);
  });

  it('checks expected finding fields', () => {
    const set = loadRules([join(FIXTURES, 'failing_expect.yaml')]);

    const report = runRuleTests(set);

    expect(report.lines[0]).toContain('count is 3, expected 4');
  });
});

describe('rule loader', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  it('names file and line of an unknown field', () => {
    const error = loadError('bad_unknown_field.yaml');

    expect(error.issues).toHaveLength(1);
    expect(error.issues[0].message).toContain('unknown event field "client.ip"');
    expect(error.issues[0].line).toBe(8);
    expect(error.issues[0].file).toMatch(/bad_unknown_field\.yaml$/);
  });

  it('rejects a regex that nests quantifiers', () => {
    const error = loadError('bad_regex.yaml');

    expect(error.issues[0].message).toContain('nests a quantifier');
    expect(error.issues[0].line).toBe(8);
  });

  it('rejects grouping by a secret header', () => {
    const error = loadError('bad_secret_key.yaml');

    expect(error.issues[0].message).toContain('carries credentials');
  });

  it('rejects a threshold without a window', () => {
    const error = loadError('bad_threshold.yaml');

    expect(error.issues[0].message).toContain('has threshold 5 but no window');
  });

  it('rejects two stateful kinds in one rule', () => {
    const error = loadError('bad_two_kinds.yaml');

    expect(error.issues[0].message).toContain('combines window and bucket');
  });

  it('rejects an unknown detector and lists the known ones', () => {
    const error = loadError('bad_detector.yaml');

    expect(error.issues[0].message).toMatch(/unknown detector "sql"; known detectors: sqli, xss/);
  });

  it('reports every problem at once', () => {
    const error = loadError('bad_many.yaml');

    expect(error.issues.map((issue) => issue.line)).toEqual([6, 7, 11]);
  });

  it('reports invalid YAML with its line', () => {
    const directory = tempDirectory();
    cleanup = directory.cleanup;
    const file = join(directory.path, 'broken.yaml');
    writeFileSync(file, 'rules:\n  - id: x\n    description: a: b\n');

    const error = (() => { try { loadRules([file]); } catch (caught) { return caught as RuleLoadError; } throw new Error('loaded'); })();

    expect(error.issues[0].line).toBe(3);
    expect(error.issues[0].message).toContain('invalid YAML');
  });

  it('rejects a misspelt test event field', () => {
    const error = loadError('bad_test_field.yaml');

    expect(error.issues).toHaveLength(1);
    expect(error.issues[0].message).toContain('test event field "http.request.methd" is not an event field; did you mean "http.request.method"?');
    expect(error.issues[0].line).toBe(13);
  });

  it('reports an unclosed flow map where it opens', () => {
    const directory = tempDirectory();
    cleanup = directory.cleanup;
    const file = join(directory.path, 'unclosed.yaml');
    writeFileSync(file, 'rules:\n  - id: a\n    name: A\n    description: x\n    severity: high\n    when: { field: url.path, equals: /x\n    tests: []\n');

    const error = (() => { try { loadRules([file]); } catch (caught) { return caught as RuleLoadError; } throw new Error('loaded'); })();

    expect(error.issues).toHaveLength(1);
    expect(error.issues[0].line).toBe(6);
    expect(error.issues[0].message).toContain('starts at line 6, column 11');
    expect(error.message).toContain(`(${file}:6)`);
    expect(error.message).not.toMatch(/^\s+: /m);
  });

  it('reports an unclosed quote where it opens', () => {
    const directory = tempDirectory();
    cleanup = directory.cleanup;
    const file = join(directory.path, 'quote.yaml');
    writeFileSync(file, 'rules:\n  - id: a\n    name: "A\n    severity: high\n');

    const error = (() => { try { loadRules([file]); } catch (caught) { return caught as RuleLoadError; } throw new Error('loaded'); })();

    expect(error.issues[0].line).toBe(3);
    expect(error.issues[0].message).toContain('starts at line 3, column 11');
  });

  it('rejects a duplicate rule id', () => {
    const error = loadError('bad_duplicate.yaml');

    expect(error.issues[0].message).toMatch(/rule id "twice" is already defined at .*bad_duplicate\.yaml:3/);
  });
});

describe('regex safety', () => {
  it.each([
    ['(a+)+', 'nests'],
    ['(\\w*)*x', 'nests'],
    ['(a|aa)+', 'nests'],
    ['(x+x+)+y', 'nests'],
    ['(\\d+){2,}', 'nests'],
    ['([a-z]+\\.)+com', 'nests'],
    ['(a)\\1', 'backreferences'],
  ])('rejects %s', (pattern, reason) => {
    expect(checkRegexSafety(pattern)).toContain(reason);
  });

  it.each(['\\A/admin', '/admin\\z', '\\p{L}'])('rejects letter escape in %s', (pattern) => {
    expect(checkRegexSafety(pattern)).toContain('which JavaScript reads as the letter');
  });

  it.each([
    ['\\w{1,64}x', 'linear time'],
    ['(?=a)b', 'linear time'],
    ['(?<!a)b', 'linear time'],
  ])('rejects non-linear pattern %s', (pattern, reason) => {
    expect(checkRegexSafety(pattern)).toContain(reason);
  });

  it.each(['^/api/v[0-9]+/', '(?:limit|size)=\\d{5,}', '[a-z]+@[a-z]+\\.com', '(ab)+c', '\\d*\\d*\\d*x', '[0-9]{1,16}'])('accepts %s', (pattern) => {
    expect(checkRegexSafety(pattern)).toBeUndefined();
  });

  it('matches polynomial pattern in linear time', () => {
    // Backtracking alone would take roughly 2000^10 steps here (an estimate); the linear fallback returns at once.
    const predicate = compileCondition({ field: 'url.query', regex: '\\d*\\d*\\d*\\d*\\d*\\d*\\d*\\d*\\d*\\d*x' }, emptyRuleSet());
    const event = eventFromFields({ 'http.request.method': 'GET', 'url.path': '/p', 'url.query': `id=${'1'.repeat(2000)}` }, Date.UTC(2024, 0, 1));

    expect(predicate(new EventView(event))).toBe(false);
  });

  it.each([
    ['SELECT\\s+\\D', 'id=1 select 2', false],
    ['SELECT\\s+\\D', 'id=1 SeLeCt x', true],
    ['[A-Z]{3}-\\d', 'ref=abc-1', true],
  ])('folds case of %s on %s', (regex, query, matched) => {
    const predicate = compileCondition({ field: 'url.query', regex, ignore_case: true }, emptyRuleSet());
    const event = eventFromFields({ 'http.request.method': 'GET', 'url.path': '/p', 'url.query': query }, Date.UTC(2024, 0, 1));

    expect(predicate(new EventView(event))).toBe(matched);
  });

  it.each([
    ['[Z-a]', 'range Z-a'],
    ['[A-_]', 'range A-_'],
    ['[A-z]', 'range A-z'],
    ['^/\\x41DMIN', '\\x'],
    ['\\u0041', '\\u'],
  ])('refuses to fold %s', (pattern, reason) => {
    expect(checkFoldable(pattern)).toContain(reason);
  });

  it.each(['[A-Z]{3}-\\d', '[0-9a-f]+', '[^-a]', 'SELECT\\s+\\D', '[a-zA-Z0-9-_]{8}', '[\\w-.]+@', '[a-z-_]', '[-a]', '[a-]'])('folds %s', (pattern) => {
    expect(checkFoldable(pattern)).toBeUndefined();
  });

  it('rejects a rule whose regex cannot be folded', () => {
    const directory = tempDirectory();
    onTestFinished(directory.cleanup);
    const file = join(directory.path, 'fold.yaml');
    writeFileSync(file, "rules:\n  - id: a\n    name: A\n    description: x\n    severity: high\n    when: { field: url.query, regex: '[Z-a]', ignore_case: true }\n");

    const error = (() => { try { loadRules([file]); } catch (caught) { return caught as RuleLoadError; } throw new Error('loaded'); })();

    expect(error.issues[0].message).toContain('range Z-a');
    expect(error.issues[0].line).toBe(6);
  });

  it('keeps case without ignore_case', () => {
    const predicate = compileCondition({ field: 'url.query', regex: 'SELECT' }, emptyRuleSet());
    const event = eventFromFields({ 'http.request.method': 'GET', 'url.path': '/p', 'url.query': 'q=select' }, Date.UTC(2024, 0, 1));

    expect(predicate(new EventView(event))).toBe(false);
  });
});
