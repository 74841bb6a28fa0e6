import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../../core/data/finding.js';
import { alertmanagerExporterFactory } from '../../../exporters/alerting/alertmanager/factory.js';
import { HttpSink } from '../../helpers/http-sink.js';
import { waitFor } from '../../helpers/wait.js';
import { configErrors } from '../config-errors.js';
import { ExporterHarness, findingsBatch, fixtureFindings } from '../harness.js';

type PostableAlert = { labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string; generatorURL?: string };

describe('alertmanager exporter', () => {
  let harness: ExporterHarness;
  let sink: HttpSink;

  beforeEach(async () => {
    harness = new ExporterHarness();
    sink = await new HttpSink().start();
  });

  afterEach(async () => {
    await harness.close();
    await sink.stop();
  });

  it('posts a list of alerts to /api/v2/alerts', async () => {
    const exporter = await harness.start(harness.create(alertmanagerExporterFactory, { endpoint: sink.url, labels: { team: 'security' }, generator_url: 'http://watchpost.example/findings', sending_queue: { batch: { flush_timeout: 10 } } }));
    const findings = fixtureFindings();

    await exporter.consume(findingsBatch(findings));
    await waitFor(() => sink.requests.length === 1, 5000, 'the request');

    expect(sink.requests[0].url).toBe('/api/v2/alerts');
    const alerts = sink.json<PostableAlert[]>()[0];
    expect(alerts).toHaveLength(3);
    const [sqli] = alerts;
    expect(sqli.labels).toEqual({ team: 'security', alertname: 'WatchpostFinding', rule: 'sqli', severity: 'high', fingerprint: findings[0].fingerprint, service: 'shop-api' });
    expect(sqli.annotations.summary).toBe('SQL injection in a request (high) from 203.0.113.7 on GET /products on shop-api');
    expect(sqli.startsAt).toBe(findings[0].first_seen);
    expect(sqli.generatorURL).toBe('http://watchpost.example/findings');
  });

  it('sets endsAt one suppression period ahead', async () => {
    const exporter = await harness.start(harness.create(alertmanagerExporterFactory, { endpoint: sink.url, sending_queue: { batch: { flush_timeout: 10 } } }));
    const finding: Finding = { ...fixtureFindings()[0], suppress_seconds: 300 };
    const before = Date.now();

    await exporter.consume(findingsBatch([finding]));
    await waitFor(() => sink.requests.length === 1, 5000, 'the request');

    const endsAt = Date.parse(sink.json<PostableAlert[]>()[0][0].endsAt);
    expect(endsAt).toBeGreaterThanOrEqual(before + 300_000);
    expect(endsAt).toBeLessThanOrEqual(Date.now() + 300_000);
  });

  it('drops a batch Alertmanager rejects with 400', async () => {
    sink.responder = (_request, response) => response.writeHead(400, { 'content-type': 'application/json' }).end('"start time must be before end time"');
    const exporter = await harness.start(harness.create(alertmanagerExporterFactory, { endpoint: sink.url, sending_queue: { batch: { flush_timeout: 10 } } }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => harness.metric('watchpost_exporter_dropped_items_total', { exporter: 'alertmanager', reason: 'permanent_error' }) === 3, 5000, 'the drop');

    expect(sink.requests).toHaveLength(1);
  });

  it('rejects an invalid label name', () => {
    expect(configErrors('alertmanager', '    endpoint: http://127.0.0.1:9093\n    labels: { "team-name": x }')).toContain('label name "team-name" is invalid; use letters, digits and underscores, not starting with a digit');
  });
});
