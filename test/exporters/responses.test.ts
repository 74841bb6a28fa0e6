import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExporterFactory } from '../../core/component.js';
import { alertmanagerExporterFactory } from '../../exporters/alerting/alertmanager/factory.js';
import { opsgenieExporterFactory } from '../../exporters/alerting/opsgenie/factory.js';
import { pagerDutyExporterFactory } from '../../exporters/alerting/pagerduty/factory.js';
import { slackExporterFactory } from '../../exporters/alerting/slack/factory.js';
import { elasticsearchExporterFactory } from '../../exporters/siem/elasticsearch/factory.js';
import { ocsfExporterFactory } from '../../exporters/siem/ocsf/factory.js';
import { splunkHecExporterFactory } from '../../exporters/siem/splunk_hec/factory.js';
import { webhookExporterFactory } from '../../exporters/webhook/factory.js';
import { HttpSink, type ReceivedRequest } from '../helpers/http-sink.js';
import { waitFor } from '../helpers/wait.js';
import { ExporterHarness, findingsBatch, fixtureFindings } from './harness.js';

interface Case {
  factory: ExporterFactory<unknown>;
  config: (url: string) => Record<string, unknown>;
  /** Responds to a request as the real service does on success. */
  success: (request: ReceivedRequest, response: ServerResponse) => void;
}

const ok = (_request: ReceivedRequest, response: ServerResponse) => response.writeHead(200).end();

/** Every HTTP exporter, with a config that sends the first fixture finding in one request. */
const CASES: Case[] = [
  { factory: webhookExporterFactory, config: (url) => ({ endpoint: url }), success: ok },
  { factory: splunkHecExporterFactory, config: (url) => ({ endpoint: url, token: 'token' }), success: (_request, response) => response.writeHead(200).end('{"text":"Success","code":0}') },
  {
    factory: elasticsearchExporterFactory,
    config: (url) => ({ endpoints: [url] }),
    success: (_request, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"took":1,"errors":false,"items":[{"create":{"status":201}}]}'),
  },
  { factory: ocsfExporterFactory, config: (url) => ({ endpoint: url }), success: ok },
  { factory: slackExporterFactory, config: (url) => ({ webhook_url: url }), success: (_request, response) => response.writeHead(200).end('ok') },
  { factory: pagerDutyExporterFactory, config: (url) => ({ endpoint: url, routing_key: 'routing-key', send_resolve: false }), success: (_request, response) => response.writeHead(202).end('{"status":"success"}') },
  { factory: opsgenieExporterFactory, config: (url) => ({ endpoint: url, api_key: 'api-key', send_close: false }), success: (_request, response) => response.writeHead(202).end('{"result":"Request will be processed"}') },
  { factory: alertmanagerExporterFactory, config: (url) => ({ endpoint: url }), success: ok },
];

/** Fast retries, a short per-attempt timeout for the hang, and no batching delay. */
const DELIVERY = {
  timeout: 300,
  retry_on_failure: { initial_interval: 10, max_interval: 20, randomization_factor: 0 },
  sending_queue: { batch: { enabled: false } },
};

describe.each(CASES.map((entry) => [entry.factory.type, entry] as const))('%s exporter answers', (type, entry) => {
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

  /** Sends one finding with the first responses scripted, then success; returns what was counted. */
  async function deliver(first: ((request: ReceivedRequest, response: ServerResponse) => void)[]): Promise<{ sent: number; dropped: number }> {
    let calls = 0;
    sink.responder = (request, response) => {
      const answer = first[calls++] ?? entry.success;
      answer(request, response);
    };
    const exporter = await harness.start(harness.create(entry.factory, { ...entry.config(`${sink.url}/endpoint`), ...DELIVERY }));
    await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
    await waitFor(() => harness.metric('watchpost_exporter_sent_items_total', { exporter: type }) + harness.metric('watchpost_exporter_send_failed_items_total', { exporter: type }) >= 1, 10_000, 'the delivery or the drop');
    await exporter.shutdown();
    return {
      sent: harness.metric('watchpost_exporter_sent_items_total', { exporter: type }),
      dropped: harness.metric('watchpost_exporter_send_failed_items_total', { exporter: type }),
    };
  }

  it('success: delivered at once', async () => {
    const counted = await deliver([]);

    expect(counted).toEqual({ sent: 1, dropped: 0 });
    expect(sink.requests).toHaveLength(1);
  });

  it('429 with Retry-After: delivered on the retry', async () => {
    const counted = await deliver([(_request, response) => response.writeHead(429, { 'retry-after': '0' }).end()]);

    expect(counted).toEqual({ sent: 1, dropped: 0 });
    expect(sink.requests).toHaveLength(2);
  });

  it('500: delivered on the retry', async () => {
    const counted = await deliver([(_request, response) => response.writeHead(500).end()]);

    expect(counted).toEqual({ sent: 1, dropped: 0 });
    expect(sink.requests).toHaveLength(2);
  });

  it('400: dropped without a retry', async () => {
    const counted = await deliver([(_request, response) => response.writeHead(400).end('invalid')]);

    expect(counted).toEqual({ sent: 0, dropped: 1 });
    expect(sink.requests).toHaveLength(1);
  });

  it('hang: timed out and delivered on the retry', async () => {
    const counted = await deliver([() => undefined]);

    expect(counted).toEqual({ sent: 1, dropped: 0 });
    expect(sink.requests).toHaveLength(2);
  });
});
