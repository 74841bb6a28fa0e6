import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../core/data/finding.js';
import { webhookExporterFactory } from '../../exporters/webhook/factory.js';
import { loadConfigText } from '../../core/config/load.js';
import { builtinRegistry } from '../../core/cli/builtins.js';
import type { ReceivedRequest } from '../helpers/http-sink.js';
import { HttpSink } from '../helpers/http-sink.js';
import { waitFor } from '../helpers/wait.js';
import { ExporterHarness, findingsBatch, fixtureFindings } from './harness.js';

const SECRET_BYTES = Buffer.from('0123456789abcdef0123456789abcdef');
const SECRET = `whsec_${SECRET_BYTES.toString('base64')}`;

/** Verifies a request as a Standard Webhooks receiver does, from the specification's steps. */
function verifySignature(request: ReceivedRequest, key: Buffer): boolean {
  const id = String(request.headers['webhook-id']);
  const timestamp = String(request.headers['webhook-timestamp']);
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${request.body.toString('utf8')}`).digest('base64');
  return String(request.headers['webhook-signature']).split(' ').some((entry) => entry === `v1,${expected}`);
}

const FAST_RETRY = { initial_interval: 10, max_interval: 20, randomization_factor: 0 };

describe('webhook exporter', () => {
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

  it('posts each finding as a JSON object', async () => {
    const exporter = await harness.start(harness.create(webhookExporterFactory, { endpoint: `${sink.url}/hook`, headers: { authorization: 'Bearer t0ken' } }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => sink.requests.length === 4, 5000, 'four requests');

    const bodies = sink.json<Finding>();
    expect(bodies.map((finding) => finding.id)).toEqual(fixtureFindings().map((finding) => finding.id));
    expect(sink.requests[0].url).toBe('/hook');
    expect(sink.requests[0].method).toBe('POST');
    expect(sink.requests[0].headers['content-type']).toBe('application/json');
    expect(sink.requests[0].headers.authorization).toBe('Bearer t0ken');
    expect(sink.requests[0].headers['webhook-signature']).toBeUndefined();
  });

  it('renders templated fields into the body', async () => {
    const fields = { text: '{{ summary }}', 'alert.rule': '{{ rule.id }}', 'alert.events': '{{ count }}', first: '{{ evidence.0.summary }}', missing: '[{{ actor.nothing }}]' };
    const exporter = await harness.start(harness.create(webhookExporterFactory, { endpoint: sink.url, fields }));

    await exporter.consume(findingsBatch(fixtureFindings().slice(1, 2)));
    await waitFor(() => sink.requests.length === 1, 5000, 'the request');

    expect(sink.json()[0]).toEqual({
      text: 'Credential stuffing | many users = one client \\ "quoted" ]bracket[ (critical, 412 events) from 2001:db8::7 on POST /login on auth',
      alert: { rule: 'credential-stuffing', events: 412 },
      first: 'POST /login -> 401\nsecond line\ttab',
      missing: '[]',
    });
  });

  it('sends one JSON array per batch with json_array', async () => {
    const exporter = await harness.start(harness.create(webhookExporterFactory, { endpoint: sink.url, json_array: true }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => sink.requests.length === 1, 5000, 'the request');

    expect(sink.json<Finding[]>()[0]).toHaveLength(4);
  });

  it('leaves out findings below min_severity', async () => {
    const exporter = await harness.start(harness.create(webhookExporterFactory, { endpoint: sink.url, min_severity: 'high' }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => sink.requests.length === 2, 5000, 'two requests');
    await exporter.shutdown();

    expect(sink.json<Finding>().map((finding) => finding.severity)).toEqual(['high', 'critical']);
    expect(harness.metric('watchpost_exporter_filtered_items_total', { exporter: 'webhook' })).toBe(2);
  });

  it('drops findings over the rate limit and counts them', async () => {
    const exporter = await harness.start(harness.create(webhookExporterFactory, { endpoint: sink.url, rate_limit: { rate: 0.001, burst: 2 } }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => harness.metric('watchpost_exporter_dropped_items_total', { exporter: 'webhook', reason: 'rate_limited' }) === 2, 5000, 'the rate-limited drops');
    await exporter.shutdown();

    expect(sink.requests).toHaveLength(2);
  });

  it('signs requests as Standard Webhooks define', async () => {
    const exporter = await harness.start(harness.create(webhookExporterFactory, { endpoint: sink.url, secret: SECRET }));
    const finding = fixtureFindings()[0];

    await exporter.consume(findingsBatch([finding]));
    await waitFor(() => sink.requests.length === 1, 5000, 'the request');

    const request = sink.requests[0];
    expect(request.headers['webhook-id']).toBe(`msg_${finding.id}`);
    expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(300);
    expect(verifySignature(request, SECRET_BYTES)).toBe(true);
    expect(verifySignature(request, Buffer.from('another secret of twenty-four bytes'))).toBe(false);
  });

  it('keeps the webhook-id across retries', async () => {
    let calls = 0;
    sink.responder = (_request, response) => {
      calls++;
      response.writeHead(calls === 1 ? 503 : 204).end();
    };
    const exporter = await harness.start(harness.create(webhookExporterFactory, { endpoint: sink.url, secret: SECRET, retry_on_failure: FAST_RETRY }));

    await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
    await waitFor(() => sink.requests.length === 2, 5000, 'the retry');

    expect(sink.requests[1].headers['webhook-id']).toBe(sink.requests[0].headers['webhook-id']);
    expect(verifySignature(sink.requests[1], SECRET_BYTES)).toBe(true);
  });

  it('resends only the finding that failed', async () => {
    let calls = 0;
    sink.responder = (_request, response) => {
      calls++;
      response.writeHead(calls === 3 ? 500 : 200).end();
    };
    const exporter = await harness.start(harness.create(webhookExporterFactory, { endpoint: sink.url, retry_on_failure: FAST_RETRY }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => sink.requests.length === 5, 5000, 'five requests');
    await exporter.shutdown();

    const ids = sink.json<Finding>().map((finding) => finding.id);
    const expected = fixtureFindings().map((finding) => finding.id);
    expect([...new Set(ids.slice(0, 4))].sort()).toEqual([...expected].sort());
    expect(ids[4]).toBe(ids[2]);
    expect(harness.metric('watchpost_exporter_sent_items_total', { exporter: 'webhook' })).toBe(4);
  });

  it('drops a finding answered 400 and sends the rest', async () => {
    let calls = 0;
    sink.responder = (_request, response) => {
      calls++;
      response.writeHead(calls === 2 ? 400 : 200).end('invalid');
    };
    const exporter = await harness.start(harness.create(webhookExporterFactory, { endpoint: sink.url }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => sink.requests.length === 4, 5000, 'four requests');
    await exporter.shutdown();

    expect(harness.metric('watchpost_exporter_dropped_items_total', { exporter: 'webhook', reason: 'permanent_error' })).toBe(1);
    expect(harness.metric('watchpost_exporter_sent_items_total', { exporter: 'webhook' })).toBe(3);
  });

  describe('with payload: decision', () => {
    it('sends a signed ban decision event', async () => {
      const exporter = await harness.start(harness.create(webhookExporterFactory, { endpoint: sink.url, payload: 'decision', secret: SECRET }));
      const finding = fixtureFindings()[0];

      await exporter.consume(findingsBatch([finding]));
      await waitFor(() => sink.requests.length === 1, 5000, 'the decision');

      const event = sink.json<{ type: string; timestamp: string; data: Record<string, unknown> }>()[0];
      expect(event.type).toBe('watchpost.decision.created');
      expect(event.data.scope).toBe('ip');
      expect(event.data.value).toBe('203.0.113.7');
      expect(event.data.scenario).toBe('sqli');
      expect(event.data.duration_seconds).toBe(3600);
      expect(Date.parse(String(event.data.until)) - Date.parse(event.timestamp)).toBe(3_600_000);
      expect(sink.requests[0].headers['webhook-id']).toBe(`msg_${String(event.data.uuid)}`);
      expect(verifySignature(sink.requests[0], SECRET_BYTES)).toBe(true);
    });

    it('sends nothing for an allow-listed actor', async () => {
      const exporter = await harness.start(harness.create(webhookExporterFactory, { endpoint: sink.url, payload: 'decision', policy: { allow: { cidrs: ['203.0.113.0/24'], identities: [], routes: [] } } }));

      await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
      await waitFor(() => harness.metric('watchpost_enforcement_skipped_findings_total', { exporter: 'webhook', reason: 'allow_listed' }) === 1, 5000, 'the skip');
      await exporter.shutdown();

      expect(sink.requests).toHaveLength(0);
    });

    it('records but does not send in dry-run mode', async () => {
      const exporter = await harness.start(harness.create(webhookExporterFactory, { endpoint: sink.url, payload: 'decision', policy: { dry_run: true } }));

      await exporter.consume(findingsBatch(fixtureFindings().slice(0, 2)));
      await waitFor(() => harness.metric('watchpost_enforcement_decisions_total', { exporter: 'webhook', dry_run: 'true' }) === 2, 5000, 'two recorded decisions');
      await exporter.shutdown();

      expect(sink.requests).toHaveLength(0);
    });

    it('repeats the same decision when a delivery is retried', async () => {
      let calls = 0;
      sink.responder = (_request, response) => {
        calls++;
        response.writeHead(calls === 1 ? 502 : 200).end();
      };
      const exporter = await harness.start(harness.create(webhookExporterFactory, { endpoint: sink.url, payload: 'decision', retry_on_failure: FAST_RETRY }));

      await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
      await waitFor(() => sink.requests.length === 2, 5000, 'the retry');

      const [first, second] = sink.json<{ data: { uuid: string; id: number } }>();
      expect(second.data.uuid).toBe(first.data.uuid);
      expect(second.data.id).toBe(first.data.id);
    });
  });

  describe('config', () => {
    const registry = builtinRegistry();
    const configWith = (exporter: string) => `exporters:\n  webhook:\n${exporter}\nreceivers: {}\nprocessors:\n  detection: {}\nservice:\n  pipelines:\n    findings: { receivers: [detection], exporters: [webhook] }\n`;

    function errors(exporter: string): string[] {
      try {
        loadConfigText(configWith(exporter), 'test.yaml', registry);
        return [];
      } catch (error) {
        return ((error as { issues?: { message: string }[] }).issues ?? []).map((issue) => issue.message);
      }
    }

    it('rejects a secret shorter than 24 bytes', () => {
      expect(errors('    endpoint: http://127.0.0.1:9/hook\n    secret: short')).toContain('secret must be at least 24 bytes (as whsec_<base64> or plain text), got 5 bytes');
    });

    it('rejects an unclosed template placeholder', () => {
      expect(errors('    endpoint: http://127.0.0.1:9/hook\n    fields: { text: "{{ rule.name" }').some((message) => message.includes('a placeholder must look like {{ rule.name }}'))).toBe(true);
    });

    it('rejects a malformed allow-list range', () => {
      expect(errors('    endpoint: http://127.0.0.1:9/hook\n    policy: { allow: { cidrs: [10.0.0.0/33] } }')).toContain('must be an address or CIDR range such as 10.0.0.0/8, got "10.0.0.0/33"');
    });
  });
});
