import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { redactionOptions, redactionProcessorFactory } from '../../processors/redaction/factory.js';
import { Redactor } from '../../processors/redaction/redactor.js';
import type { RedactionConfig } from '../../processors/redaction/config.js';
import { cardBrand, luhnValid } from '../../processors/redaction/scanners.js';
import { FindingsBatch } from '../../core/data/batch.js';
import type { Finding } from '../../core/data/finding.js';
import { findAttribute } from '../../core/otlp/attributes.js';
import { CaptureConsumer, encodedBatch, logs, logsBatch, ProcessorHarness, record, span, traces, tracesBatch } from './helpers.js';

interface SecretCase {
  name: string;
  input: string;
  output: string;
  kinds: string[];
}

const secrets = parse(readFileSync(new URL('../fixtures/redaction/secrets.yaml', import.meta.url), 'utf8')) as SecretCase[];
const ordinary = readFileSync(new URL('../fixtures/redaction/ordinary.txt', import.meta.url), 'utf8').split('\n').filter((line) => line !== '' && !line.startsWith('#'));

function redactor(overrides: Partial<RedactionConfig> = {}): Redactor {
  return new Redactor(redactionOptions({ ...redactionProcessorFactory.createDefaultConfig(), ...overrides }));
}

describe('redaction patterns', () => {
  for (const secret of secrets) {
    it(`masks ${secret.name}`, () => {
      const subject = redactor();
      expect(subject.text(secret.input)).toBe(secret.output);
      expect(Object.keys(subject.takeCounts()).sort()).toEqual([...secret.kinds].sort());
    });
  }

  it('leaves ordinary values alone', () => {
    const subject = redactor();
    for (const line of ordinary) expect(subject.text(line), line).toBe(line);
    expect(subject.takeCounts()).toEqual({});
  });

  it('checks card brands and Luhn digits', () => {
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    expect(luhnValid('79927398713')).toBe(true);
    expect(cardBrand('4111111111111111')).toBe('visa');
    expect(cardBrand('2223003122003222')).toBe('mastercard');
    expect(cardBrand('6011111111111117')).toBe('discover');
    expect(cardBrand('3530111333300000')).toBe('jcb');
    expect(cardBrand('30569309025904')).toBe('diners');
    expect(cardBrand('1234567812345670')).toBeUndefined();
    expect(cardBrand('411111111111111')).toBeUndefined();
  });

  it('hashes with a key instead of masking', () => {
    const subject = redactor({ action: 'hash', hash_key: 'k'.repeat(32) });
    const first = subject.text('contact carol@example.com today');
    const second = subject.text('carol@example.com');
    const other = redactor({ action: 'hash', hash_key: 'x'.repeat(32) }).text('carol@example.com');
    expect(first).toMatch(/^contact hmac:[0-9a-f]{32} today$/);
    expect(second).toBe(first.slice('contact '.length, -' today'.length));
    expect(other).not.toBe(second);
  });

  it('masks user patterns with RE2', () => {
    const subject = redactor({ blocked_values: ['ACME-[0-9]{6}', '(a+)+b'] });
    expect(subject.text('ticket ACME-123456 and ACME-12')).toBe('ticket **** and ACME-12');
    expect(subject.takeCounts()).toEqual({ pattern: 1 });
  });

  it('honours the detector list', () => {
    const subject = redactor({ detectors: ['email'] });
    expect(subject.text('alice@example.com card 4111111111111111')).toBe('**** card 4111111111111111');
  });

  it('stays linear on hostile input', () => {
    const subject = redactor({ blocked_values: ['(x+x+)+y'] });
    const inputs = ['eyJ'.repeat(50_000), '@'.repeat(100_000), `${'a'.repeat(100_000)}@`, '4 '.repeat(60_000), 'bearer '.repeat(20_000), '://'.repeat(50_000), `${'x'.repeat(50_000)}`, 'a=b&'.repeat(30_000), '"password":'.repeat(20_000)];
    for (const input of inputs) expect(subject.text(input).length).toBeGreaterThan(0);
  });
});

describe('redaction of OTLP data', () => {
  it('replaces secret attribute keys whole', () => {
    const subject = redactor({ blocked_keys: ['app.customer.ssn'] });
    const request = traces({ api: [span({ traceId: '01'.repeat(16), attributes: {
      'http.request.header.authorization': ['Bearer abcdefgh12345678'],
      'http.request.header.x-api-key': ['k-123'],
      'db.password': 'p',
      'app.customer.ssn': '078-05-1120',
      'gen_ai.usage.input_tokens': 4096,
      'http.request.header.content-type': ['application/json'],
      'user.id': 'u-42',
    } })] });

    subject.request('traces', request);

    const attributes = request.resourceSpans?.[0].scopeSpans?.[0].spans?.[0].attributes;
    expect(findAttribute(attributes, 'http.request.header.authorization')).toEqual(['****']);
    expect(findAttribute(attributes, 'http.request.header.x-api-key')).toEqual(['****']);
    expect(findAttribute(attributes, 'db.password')).toBe('****');
    expect(findAttribute(attributes, 'app.customer.ssn')).toBe('****');
    expect(findAttribute(attributes, 'gen_ai.usage.input_tokens')).toBe(4096);
    expect(findAttribute(attributes, 'http.request.header.content-type')).toEqual(['application/json']);
    expect(findAttribute(attributes, 'user.id')).toBe('u-42');
    expect(subject.takeCounts()).toEqual({ secret_key: 4 });
  });

  it('scans log bodies, nested values and span events', () => {
    const subject = redactor({ allowed_keys: ['contact'] });
    const request = logs([
      { ...record({ body: 'login ok for dave@example.net' }), attributes: [{ key: 'ctx', value: { kvlistValue: { values: [{ key: 'cookie', value: { stringValue: 'sid=abc' } }, { key: 'note', value: { arrayValue: { values: [{ stringValue: 'pw=1 password=hunter2' }] } } }] } } }, { key: 'contact', value: { stringValue: 'erin@example.org' } }] },
    ]);

    subject.request('logs', request);

    const logged = request.resourceLogs?.[0].scopeLogs?.[0].logRecords?.[0];
    expect(logged?.body?.stringValue).toBe('login ok for ****');
    expect(findAttribute(logged?.attributes, 'ctx')).toEqual({ cookie: '****', note: ['pw=1 password=****'] });
    expect(findAttribute(logged?.attributes, 'contact')).toBe('erin@example.org');
  });

  it('redacts metric data point attributes', () => {
    const subject = redactor();
    const request = { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'http.client.requests', sum: { dataPoints: [{ asInt: 1, attributes: [{ key: 'url.full', value: { stringValue: 'https://api.example.com/v1?api_key=k-9876' } }], exemplars: [{ filteredAttributes: [{ key: 'enduser.email', value: { stringValue: 'ivan@example.com' } }] }] }] } }] }] }] };

    subject.request('metrics', request as never);

    const point = request.resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[0];
    expect(point.attributes[0].value.stringValue).toBe('https://api.example.com/v1?api_key=****');
    expect(point.exemplars[0].filteredAttributes[0].value.stringValue).toBe('****');
  });

  it('redacts finding evidence and leaves the actor', () => {
    const subject = redactor();
    const finding = { evidence: [{ time: '', summary: 'GET /login?password=hunter2 -> 401', detail: 'credential in query: password' }], target: { path: '/reset/frank@example.com' }, actor: { address: '203.0.113.4', identity: 'frank@example.com' }, key: { 'client.address': '203.0.113.4' } } as unknown as Finding;
    subject.finding(finding);
    expect(finding.evidence[0].summary).toBe('GET /login?password=**** -> 401');
    expect(finding.target.path).toBe('/reset/****');
    expect(finding.actor.identity).toBe('frank@example.com');
    expect(finding.key['client.address']).toBe('203.0.113.4');
  });
});

describe('redaction processor', () => {
  const harness = new ProcessorHarness(redactionProcessorFactory.workerModules);
  afterAll(() => harness.close());

  it('redacts traces in the worker pool and counts', async () => {
    const next = new CaptureConsumer();
    const processor = harness.create(redactionProcessorFactory, { config: harness.config(redactionProcessorFactory), next });
    await processor.consume(encodedBatch(tracesBatch(traces({ api: [span({ traceId: '01'.repeat(16), attributes: { 'url.query': 'token=abcd1234&page=2', 'user.email': 'gina@example.com' } })] }))));

    const attributes = next.spans()[0].attributes;
    expect(findAttribute(attributes, 'url.query')).toBe('token=****&page=2');
    expect(findAttribute(attributes, 'user.email')).toBe('****');
    expect(harness.metrics.registry.render()).toContain('watchpost_redaction_values_total{kind="secret_parameter",processor="redaction",signal="traces"} 1');
  });

  it('passes clean batches on with their original bytes', async () => {
    const next = new CaptureConsumer();
    const processor = harness.create(redactionProcessorFactory, { config: harness.config(redactionProcessorFactory), next, signal: 'logs' });
    const batch = encodedBatch(logsBatch(logs([record({ body: 'GET /healthz 200' })])));
    await processor.consume(batch);
    expect(next.batches[0]).toBe(batch);
    expect(batch.hasOriginalBytes()).toBe(true);
  });

  it('copies findings before redacting them', async () => {
    const next = new CaptureConsumer();
    const processor = harness.create(redactionProcessorFactory, { config: harness.config(redactionProcessorFactory), next, signal: 'findings' });
    const original = { evidence: [{ time: '', summary: 'POST /login?password=x1 -> 200' }], target: {}, actor: {}, key: {} } as unknown as Finding;
    await processor.consume(new FindingsBatch([original], { receiver: 'detection' }));
    expect((next.batches[0] as FindingsBatch).findings[0].evidence[0].summary).toBe('POST /login?password=**** -> 200');
    expect(original.evidence[0].summary).toBe('POST /login?password=x1 -> 200');
  });

  it('validates hash_key and patterns', () => {
    const problems: string[] = [];
    redactionProcessorFactory.validate?.({ ...redactionProcessorFactory.createDefaultConfig(), action: 'hash', blocked_values: ['(', 'x*'] }, (message) => problems.push(message));
    expect(problems).toEqual([
      'action hash needs a hash_key of at least 16 characters, such as ${env:WATCHPOST_REDACTION_KEY}',
      expect.stringContaining('blocked_values: invalid RE2 regular expression "("'),
      'blocked_values: "x*" matches empty text; it must match at least one character',
    ]);
  });
});
