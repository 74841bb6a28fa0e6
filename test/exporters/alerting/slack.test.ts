import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { slackExporterFactory } from '../../../exporters/alerting/slack/factory.js';
import { HttpSink } from '../../helpers/http-sink.js';
import { waitFor } from '../../helpers/wait.js';
import { ExporterHarness, findingsBatch, fixtureFindings } from '../harness.js';
import { configErrors } from '../config-errors.js';

type SlackPayload = { text: string; blocks: { type: string; text?: { type: string; text: string }; fields?: { text: string }[]; elements?: { text: string }[] }[] };

describe('slack exporter', () => {
  let harness: ExporterHarness;
  let sink: HttpSink;

  beforeEach(async () => {
    harness = new ExporterHarness();
    sink = await new HttpSink().start();
    sink.responder = (_request, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });

  afterEach(async () => {
    await harness.close();
    await sink.stop();
  });

  it('keeps the webhook URL out of config errors', () => {
    const secretPath = '/services/T0SECRET/B0SECRET/XSECRETTOKEN';
    for (const value of [`ftp://127.0.0.1:9${secretPath}`, `127.0.0.1${secretPath}`]) {
      const messages = configErrors('slack', `    webhook_url: "${value}"`);
      expect(messages).toHaveLength(1);
      expect(messages[0]).toMatch(/^must be an http or https URL/);
      expect(messages[0]).not.toContain('SECRET');
    }
  });

  it('posts text and blocks to the incoming webhook', async () => {
    const exporter = await harness.start(harness.create(slackExporterFactory, { webhook_url: `${sink.url}/services/T000/B000/XXXX` }));

    await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
    await waitFor(() => sink.requests.length === 1, 5000, 'the message');

    expect(sink.requests[0].url).toBe('/services/T000/B000/XXXX');
    expect(sink.requests[0].headers['content-type']).toBe('application/json');
    const payload = sink.json<SlackPayload>()[0];
    expect(payload.text).toBe('SQL injection in a request (high) from 203.0.113.7 on GET /products on shop-api');
    expect(payload.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'SQL injection in a request' } });
    expect(payload.blocks[1].fields?.map((field) => field.text.split('\n')[0])).toEqual(['*Severity*', '*Actor*', '*Target*', '*Events*', '*OWASP*', '*MITRE ATT&amp;CK*']);
    expect(payload.blocks.at(-1)?.type).toBe('context');
    expect(payload.blocks.length).toBeLessThanOrEqual(50);
  });

  it('keeps a long text within the 3000 characters of a section', async () => {
    const exporter = await harness.start(harness.create(slackExporterFactory, { webhook_url: `${sink.url}/services/T000/B000/XXXX`, text: `{{ summary }} ${'x'.repeat(3100)}` }));

    await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
    await waitFor(() => sink.requests.length === 1, 5000, 'the message');

    const payload = sink.json<SlackPayload>()[0];
    expect(payload.text.length).toBe(3000);
    expect(payload.blocks[1].text?.text.length).toBe(3000);
  });

  it('escapes control characters an attacker could use for mentions and links', async () => {
    const finding = { ...fixtureFindings()[0], actor: { address: '203.0.113.7', identity: '<!channel> & <https://evil.example|click>' }, action: undefined, severity: 'critical' as const };
    finding.target.path = '/search?q=<!here>';
    const exporter = await harness.start(harness.create(slackExporterFactory, { webhook_url: sink.url, text: '{{ actor.identity }} hit {{ target.path }}' }));

    await exporter.consume(findingsBatch([finding]));
    await waitFor(() => sink.requests.length === 1, 5000, 'the message');

    const raw = sink.requests[0].body.toString('utf8');
    expect(raw).not.toContain('<!channel>');
    expect(raw).not.toContain('<!here>');
    expect(raw).not.toContain('<https://');
    expect(sink.json<SlackPayload>()[0].text).toBe('&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt; hit /search?q=&lt;!here&gt;');
  });

  it('sends only findings at or above medium by default', async () => {
    const exporter = await harness.start(harness.create(slackExporterFactory, { webhook_url: sink.url, rate_limit: { rate: 0 } }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => sink.requests.length === 3, 5000, 'three messages');
    await exporter.shutdown();

    expect(sink.json<SlackPayload>().map((payload) => payload.blocks[0].text?.text)).toEqual(['SQL injection in a request', 'Update: Credential stuffing | many users = one client \\ "quoted" ]bracket[', 'Object id enumeration']);
    expect(harness.metric('watchpost_exporter_filtered_items_total', { exporter: 'slack' })).toBe(1);
  });

  it('keeps to the rate limit and counts the rest', async () => {
    const exporter = await harness.start(harness.create(slackExporterFactory, { webhook_url: sink.url, min_severity: 'info', rate_limit: { rate: 0.01, burst: 1 } }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => harness.metric('watchpost_exporter_dropped_items_total', { exporter: 'slack', reason: 'rate_limited' }) === 3, 5000, 'the limited findings');
    await exporter.shutdown();

    expect(sink.requests).toHaveLength(1);
  });

  it('honours Retry-After on a 429 from Slack', async () => {
    let calls = 0;
    sink.responder = (_request, response) => {
      calls++;
      if (calls === 1) response.writeHead(429, { 'retry-after': '0' }).end('rate_limited');
      else response.writeHead(200).end('ok');
    };
    const exporter = await harness.start(harness.create(slackExporterFactory, { webhook_url: sink.url }));

    await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
    await waitFor(() => harness.metric('watchpost_exporter_sent_items_total', { exporter: 'slack' }) === 1, 5000, 'the delivery');

    expect(sink.requests).toHaveLength(2);
  });

  it('drops a message to an archived channel without retrying', async () => {
    sink.responder = (_request, response) => response.writeHead(410).end('channel_is_archived');
    const exporter = await harness.start(harness.create(slackExporterFactory, { webhook_url: sink.url }));

    await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
    await waitFor(() => harness.metric('watchpost_exporter_dropped_items_total', { exporter: 'slack', reason: 'permanent_error' }) === 1, 5000, 'the drop');
    await exporter.shutdown();

    expect(sink.requests).toHaveLength(1);
    expect(harness.log.lines.some((line) => JSON.stringify(line).includes('/services/') || JSON.stringify(line).includes(sink.url))).toBe(false);
  });
});
