import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../../core/data/finding.js';
import type { Exporter } from '../../../core/component.js';
import { decisionsExporterFactory } from '../../../exporters/enforcement/decisions/factory.js';
import { goDuration } from '../../../exporters/enforcement/decisions/crowdsec.js';
import { waitFor } from '../../helpers/wait.js';
import { configErrors } from '../config-errors.js';
import { ExporterHarness, findingsBatch, fixtureFindings, TestHost } from '../harness.js';

const KEY = 'bouncer-key-0123456789';
const OTHER_KEY = 'second-bouncer-key-9876';

type CrowdSecDecision = { id: number; origin: string; type: string; scope: string; value: string; duration: string; scenario: string; until: string };
type Stream = { new: CrowdSecDecision[]; deleted: CrowdSecDecision[] };

describe('decisions exporter', () => {
  let harness: ExporterHarness;
  let exporter: Exporter;
  let base: string;

  async function start(config: Record<string, unknown> = {}): Promise<void> {
    exporter = harness.create(decisionsExporterFactory, { api_keys: [KEY, OTHER_KEY], ...config }, 'decisions');
    await harness.start(exporter);
    await harness.host.admin.start();
    base = `http://${harness.host.admin.address()}${String(config.path_prefix ?? '')}`;
  }

  async function get<T>(path: string, key = KEY, method = 'GET'): Promise<{ status: number; body: T; text: string }> {
    const response = await fetch(`${base}${path}`, { method, headers: { 'x-api-key': key, 'user-agent': 'crowdsec-custom-bouncer/v0.0.15' } });
    const text = await response.text();
    return { status: response.status, text, body: (text ? JSON.parse(text) : undefined) as T };
  }

  beforeEach(() => {
    harness = new ExporterHarness();
  });

  afterEach(async () => {
    await harness.close();
  });

  it('lists active decisions at bouncer startup', async () => {
    await start();
    await exporter.consume(findingsBatch(fixtureFindings()));

    const { status, body } = await get<Stream>('/v1/decisions/stream?startup=true');

    expect(status).toBe(200);
    expect(body.new.map((decision) => decision.value)).toEqual(['203.0.113.7', '2001:db8::7']);
    const [decision] = body.new;
    expect(decision.value).toBe('203.0.113.7');
    expect(decision.scope).toBe('Ip');
    expect(decision.type).toBe('ban');
    expect(decision.origin).toBe('watchpost');
    expect(decision.scenario).toBe('sqli');
    expect(decision.duration).toMatch(/^(?:59m\d+(?:\.\d+)?s|1h0m0s)$/);
    expect(Number.isInteger(decision.id)).toBe(true);
    expect(body.deleted).toEqual([]);
  });

  it('sends only changes after the first pull', async () => {
    await start();
    await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
    await get<Stream>('/v1/decisions/stream?startup=true');

    const unchanged = await get<Stream>('/v1/decisions/stream?startup=false');
    const finding: Finding = { ...fixtureFindings()[0], id: 'b1e6c0d2-0000-4000-8000-000000000002', actor: { address: '198.51.100.99' } };
    await new Promise((resolve) => setTimeout(resolve, 5));
    await exporter.consume(findingsBatch([finding]));
    const changed = await get<Stream>('/v1/decisions/stream');

    expect(unchanged.body).toEqual({ new: [], deleted: [] });
    expect(changed.body.new.map((decision) => decision.value)).toEqual(['198.51.100.99']);
  });

  it('keeps a separate last pull per bouncer key', async () => {
    await start();
    await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
    await get<Stream>('/v1/decisions/stream?startup=true');

    const other = await get<Stream>('/v1/decisions/stream', OTHER_KEY);

    expect(other.body.new.map((decision) => decision.value)).toEqual(['203.0.113.7']);
  });

  it('lists an expired decision as deleted', async () => {
    await start({ policy: { ban_duration: 1000, max_duration: 1000 } });
    const finding = { ...fixtureFindings()[0], action: undefined };
    await exporter.consume(findingsBatch([finding]));
    await get<Stream>('/v1/decisions/stream?startup=true');

    const stream = await waitFor(async () => {
      const pulled = await get<Stream>('/v1/decisions/stream');
      return pulled.body.deleted.length > 0 ? pulled.body : undefined;
    }, 10_000, 'the expired decision');

    expect(stream.deleted.map((decision) => decision.value)).toEqual(['203.0.113.7']);
    expect(stream.deleted[0].duration.startsWith('-')).toBe(true);
  });

  it('answers a lookup by address, and null when there is none', async () => {
    await start();
    await exporter.consume(findingsBatch(fixtureFindings()));

    const found = await get<CrowdSecDecision[]>('/v1/decisions?ip=203.0.113.7');
    const mapped = await get<CrowdSecDecision[]>('/v1/decisions?ip=::ffff:203.0.113.7');
    const range = await get<CrowdSecDecision[]>('/v1/decisions?range=203.0.113.0/24');
    const missing = await get<null>('/v1/decisions?ip=192.0.2.1');

    expect(found.body.map((decision) => decision.value)).toEqual(['203.0.113.7']);
    expect(mapped.body.map((decision) => decision.value)).toEqual(['203.0.113.7']);
    expect(range.body.map((decision) => decision.value)).toEqual(['203.0.113.7']);
    expect(missing.status).toBe(200);
    expect(missing.text).toBe('null');
  });

  it('forbids requests without a known key', async () => {
    await start();

    const missing = await fetch(`${base}/v1/decisions/stream?startup=true`);
    const wrong = await get<{ message: string }>('/v1/decisions?ip=203.0.113.7', 'wrong-key-0123456789');

    expect(missing.status).toBe(403);
    expect(await missing.json()).toEqual({ message: 'access forbidden' });
    expect(wrong.status).toBe(403);
    expect(harness.metric('watchpost_decisions_api_requests_total', { exporter: 'decisions', outcome: 'forbidden' })).toBe(2);
  });

  it('answers HEAD without a body', async () => {
    await start();

    const response = await fetch(`${base}/v1/decisions/stream`, { method: 'HEAD', headers: { 'x-api-key': KEY } });

    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
  });

  it('filters by scope as bouncers ask', async () => {
    await start({ policy: { scopes: ['ip', 'identity'] } });
    const identity = { ...fixtureFindings()[3], severity: 'high' as const, confidence: 'high' as const };
    await exporter.consume(findingsBatch([fixtureFindings()[0], identity]));

    const byDefault = await get<Stream>('/v1/decisions/stream?startup=true');
    const users = await get<Stream>('/v1/decisions/stream?startup=true&scopes=user', OTHER_KEY);

    expect(byDefault.body.new.map((decision) => decision.scope)).toEqual(['Ip']);
    expect(users.body.new.map((decision) => `${decision.scope}:${decision.value}`)).toEqual(['User:user-42']);
  });

  it('serves nothing in dry-run mode but records the decision', async () => {
    await start({ policy: { dry_run: true } });
    await exporter.consume(findingsBatch(fixtureFindings()));

    const stream = await get<Stream>('/v1/decisions/stream?startup=true');

    expect(stream.body.new).toEqual([]);
    expect(harness.metric('watchpost_enforcement_decisions_total', { exporter: 'decisions', dry_run: 'true' })).toBe(2);
  });

  it('serves below a path prefix', async () => {
    await start({ path_prefix: '/crowdsec' });
    await exporter.consume(findingsBatch(fixtureFindings()));

    const stream = await get<Stream>('/v1/decisions/stream?startup=true');
    const root = await fetch(`http://${harness.host.admin.address()}/v1/decisions/stream`, { headers: { 'x-api-key': KEY } });

    expect(stream.body.new).toHaveLength(2);
    expect(root.status).toBe(404);
  });

  it('keeps decisions across a restart', async () => {
    await start();
    await exporter.consume(findingsBatch(fixtureFindings()));
    await exporter.shutdown();
    await harness.host.admin.shutdown();
    await harness.reopenStorage();
    harness.host = new TestHost();

    await start({ api_keys: [KEY] });
    const stream = await get<Stream>('/v1/decisions/stream?startup=true');

    expect(stream.body.new.map((decision) => decision.value)).toEqual(['203.0.113.7', '2001:db8::7']);
  });

  it('rejects short API keys', () => {
    expect(configErrors('decisions', '    api_keys: [short]')).toContain('each API key must be at least 16 characters, got 5');
  });
});

describe('goDuration', () => {
  it.each([
    [0, '0s'],
    [250, '250ms'],
    [1500, '1.5s'],
    [61_000, '1m1s'],
    [3_600_000, '1h0m0s'],
    [14_398_123, '3h59m58.123s'],
    [-62_500, '-1m2.5s'],
  ])('%i ms is %s', (ms, text) => {
    expect(goDuration(ms)).toBe(text);
  });
});
