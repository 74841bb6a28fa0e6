import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../../core/data/finding.js';
import { opsgenieExporterFactory } from '../../../exporters/alerting/opsgenie/factory.js';
import { HttpSink } from '../../helpers/http-sink.js';
import { waitFor } from '../../helpers/wait.js';
import { ExporterHarness, findingsBatch, fixtureFindings } from '../harness.js';
import { opsgenieAccepted } from './servers.js';

const API_KEY = 'eb243592-faa2-4ba2-a551q-1afdf565c889';

type CreateAlert = { message: string; alias: string; description: string; tags: string[]; details: Record<string, string>; entity: string; source: string; priority: string };

describe('opsgenie exporter', () => {
  let harness: ExporterHarness;
  let sink: HttpSink;

  beforeEach(async () => {
    harness = new ExporterHarness();
    sink = await new HttpSink().start();
    sink.responder = opsgenieAccepted;
  });

  afterEach(async () => {
    await harness.close();
    await sink.stop();
  });

  it('creates an alert with the fingerprint as alias', async () => {
    const exporter = await harness.start(harness.create(opsgenieExporterFactory, { endpoint: sink.url, api_key: API_KEY, tags: ['api'], send_close: false }));
    const finding = fixtureFindings()[1];

    await exporter.consume(findingsBatch([finding]));
    await waitFor(() => sink.requests.length === 1, 5000, 'the alert');

    expect(sink.requests[0].url).toBe('/v2/alerts');
    expect(sink.requests[0].headers.authorization).toBe(`GenieKey ${API_KEY}`);
    const alert = sink.json<CreateAlert>()[0];
    expect(alert.alias).toBe(finding.fingerprint);
    expect(alert.priority).toBe('P1');
    expect(alert.message.length).toBeLessThanOrEqual(130);
    expect(alert.tags).toEqual(['api', 'credential-stuffing', 'critical']);
    expect(alert.details.count).toBe('412');
    expect(alert.details.mitre_attack).toBe('T1110.004');
    expect(Object.values(alert.details).every((value) => typeof value === 'string')).toBe(true);
    expect(alert.entity).toBe('POST /login on auth');
    expect(alert.source).toBe('watchpost');
    expect(alert.description).toContain('Evidence:');
  });

  it('closes the alert by alias after a quiet period', async () => {
    const exporter = await harness.start(harness.create(opsgenieExporterFactory, { endpoint: sink.url, api_key: API_KEY }));
    const finding: Finding = { ...fixtureFindings()[0], suppress_seconds: 1 };

    await exporter.consume(findingsBatch([finding]));
    await waitFor(() => sink.requests.length === 2, 10_000, 'the close');

    expect(sink.requests[1].url).toBe(`/v2/alerts/${finding.fingerprint}/close?identifierType=alias`);
    expect(sink.requests[1].method).toBe('POST');
    expect(sink.requests[1].headers.authorization).toBe(`GenieKey ${API_KEY}`);
    expect(sink.json<{ source: string; note: string }>()[1].note).toContain('No new findings during the quiet period');
  });
});
