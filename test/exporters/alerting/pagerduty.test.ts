import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../../core/data/finding.js';
import { pagerDutyExporterFactory } from '../../../exporters/alerting/pagerduty/factory.js';
import { resolveDelay } from '../../../exporters/helper/alerting-exporter.js';
import { HttpSink } from '../../helpers/http-sink.js';
import { waitFor } from '../../helpers/wait.js';
import { configErrors } from '../config-errors.js';
import { ExporterHarness, findingsBatch, fixtureFindings } from '../harness.js';
import { pagerDutyAccepted } from './servers.js';

const ROUTING_KEY = 'R0123456789ABCDEF0123456789ABCDE';

type PagerDutyEvent = { routing_key: string; event_action: string; dedup_key: string; client?: string; payload?: Record<string, any> };

describe('resolve delay', () => {
  it('waits out the suppression-end update before resolving', () => {
    const finding: Finding = { ...fixtureFindings()[0], status: 'new', suppress_seconds: 60 };

    expect(resolveDelay(finding, 600_000)).toBe(70_000);
    expect(resolveDelay({ ...finding, status: 'update' }, 600_000)).toBe(10_000);
    expect(resolveDelay({ ...finding, suppress_seconds: 2 }, 600_000)).toBe(4000);
    expect(resolveDelay({ ...finding, suppress_seconds: undefined }, 600_000)).toBe(610_000);
  });
});

describe('pagerduty exporter', () => {
  let harness: ExporterHarness;
  let sink: HttpSink;

  beforeEach(async () => {
    harness = new ExporterHarness();
    sink = await new HttpSink().start();
    sink.responder = pagerDutyAccepted;
  });

  afterEach(async () => {
    await harness.close();
    await sink.stop();
  });

  function create(extra: Record<string, unknown> = {}) {
    return harness.create(pagerDutyExporterFactory, { endpoint: `${sink.url}/v2/enqueue`, routing_key: ROUTING_KEY, ...extra });
  }

  it('triggers an alert with the fingerprint as dedup_key', async () => {
    const exporter = await harness.start(create({ send_resolve: false }));
    const finding = fixtureFindings()[0];

    await exporter.consume(findingsBatch([finding]));
    await waitFor(() => sink.requests.length === 1, 5000, 'the trigger');

    expect(sink.requests[0].url).toBe('/v2/enqueue');
    const event = sink.json<PagerDutyEvent>()[0];
    expect(event.routing_key).toBe(ROUTING_KEY);
    expect(event.event_action).toBe('trigger');
    expect(event.dedup_key).toBe(finding.fingerprint);
    expect(event.client).toBe('Watchpost');
    expect(event.payload?.summary).toBe('SQL injection in a request (high) from 203.0.113.7 on GET /products on shop-api');
    expect(event.payload?.source).toBe('shop-api');
    expect(event.payload?.severity).toBe('error');
    expect(event.payload?.timestamp).toBe(finding.time);
    expect(event.payload?.component).toBe('watchpost');
    expect(event.payload?.class).toBe('sqli');
    expect(event.payload?.custom_details.count).toBe(1);
    expect(event.payload?.custom_details.evidence).toEqual(['GET /products?id=<redacted> -> 200 (sqli: url.query:id: union select)']);
  });

  it('maps critical findings to critical and keeps to the summary limit', async () => {
    const exporter = await harness.start(create({ send_resolve: false, summary: `${'x'.repeat(1100)} {{ rule.id }}` }));

    await exporter.consume(findingsBatch(fixtureFindings().slice(1, 2)));
    await waitFor(() => sink.requests.length === 1, 5000, 'the trigger');

    const event = sink.json<PagerDutyEvent>()[0];
    expect(event.payload?.severity).toBe('critical');
    expect(event.payload?.summary.length).toBe(1024);
  });

  it('resolves the alert after a quiet suppression period', async () => {
    const exporter = await harness.start(create());
    const finding: Finding = { ...fixtureFindings()[0], suppress_seconds: 1 };

    await exporter.consume(findingsBatch([finding]));
    await waitFor(() => sink.requests.length === 2, 10_000, 'the resolve');

    const [trigger, resolve] = sink.json<PagerDutyEvent>();
    expect(trigger.event_action).toBe('trigger');
    expect(resolve).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: finding.fingerprint });
    await waitFor(() => harness.metric('watchpost_exporter_alert_resolves_total', { exporter: 'pagerduty', outcome: 'resolved' }) === 1, 5000, 'the counted resolve');
  });

  it('retries a 429 with Retry-After and drops a 400', async () => {
    let calls = 0;
    sink.responder = (request, response) => {
      calls++;
      if (calls === 1) response.writeHead(429, { 'retry-after': '0' }).end('{"status":"throttle event","message":"Requests for this service are arriving too quickly"}');
      else if (calls === 3) response.writeHead(400).end('{"status":"invalid event","message":"Event object is invalid","errors":["Length of \'payload.summary\' is too long"]}');
      else pagerDutyAccepted(request, response);
    };
    const exporter = await harness.start(create({ send_resolve: false, min_severity: 'info' }));

    await exporter.consume(findingsBatch(fixtureFindings().slice(0, 3)));
    await waitFor(() => sink.requests.length === 4, 5000, 'every attempt');
    await exporter.shutdown();

    const keys = sink.json<PagerDutyEvent>().map((event) => event.dedup_key);
    expect(keys.slice(0, 3).sort()).toEqual(fixtureFindings().slice(0, 3).map((finding) => finding.fingerprint).sort());
    expect(keys[3]).toBe(keys[0]);
    expect(harness.metric('watchpost_exporter_sent_items_total', { exporter: 'pagerduty' })).toBe(2);
    expect(harness.metric('watchpost_exporter_dropped_items_total', { exporter: 'pagerduty', reason: 'permanent_error' })).toBe(1);
    expect(harness.log.lines.some((line) => JSON.stringify(line).includes(ROUTING_KEY))).toBe(false);
  });

  it('needs an endpoint and a routing key', () => {
    const messages = configErrors('pagerduty', '    min_severity: high');

    expect(messages).toContain('missing required key "endpoint"');
    expect(messages).toContain('missing required key "routing_key"');
  });
});
