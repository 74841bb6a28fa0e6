import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../../core/data/finding.js';
import { splunkHecExporterFactory } from '../../../exporters/siem/splunk_hec/factory.js';
import { HttpSink, type ReceivedRequest } from '../../helpers/http-sink.js';
import { waitFor } from '../../helpers/wait.js';
import { configErrors } from '../config-errors.js';
import { ExporterHarness, findingsBatch, fixtureFindings } from '../harness.js';
import { parseConcatenatedJson } from './parse.js';

const TOKEN = '00000000-1111-2222-3333-444444444444';

interface HecEvent {
  time: number;
  host: string;
  source: string;
  sourcetype: string;
  index?: string;
  event: Finding & { message: string };
  fields: Record<string, unknown>;
}

function events(request: ReceivedRequest): HecEvent[] {
  const body = request.headers['content-encoding'] === 'gzip' ? gunzipSync(request.body) : request.body;
  return parseConcatenatedJson(body.toString('utf8')) as HecEvent[];
}

/** Answers as HEC does: 200 with `{"text":"Success","code":0}`. */
function hecSuccess(_request: ReceivedRequest, response: import('node:http').ServerResponse): void {
  response.writeHead(200, { 'content-type': 'application/json' }).end('{"text":"Success","code":0}');
}

describe('splunk_hec exporter', () => {
  let harness: ExporterHarness;
  let sink: HttpSink;

  beforeEach(async () => {
    harness = new ExporterHarness();
    sink = await new HttpSink().start();
    sink.responder = hecSuccess;
  });

  afterEach(async () => {
    await harness.close();
    await sink.stop();
  });

  it('posts gzipped events to the event endpoint with the token', async () => {
    const exporter = await harness.start(harness.create(splunkHecExporterFactory, { endpoint: sink.url, token: TOKEN, index: 'security', host: 'sensor-1' }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => sink.requests.length === 1, 5000, 'the request');

    const request = sink.requests[0];
    expect(request.url).toBe('/services/collector/event');
    expect(request.headers.authorization).toBe(`Splunk ${TOKEN}`);
    expect(request.headers['content-encoding']).toBe('gzip');
    const [first, second] = events(request);
    expect(first.time).toBe(Date.parse('2026-12-04T10:00:03.250Z') / 1000);
    expect(first.host).toBe('sensor-1');
    expect(first.source).toBe('watchpost');
    expect(first.sourcetype).toBe('watchpost:finding');
    expect(first.index).toBe('security');
    expect(first.event.rule.id).toBe('sqli');
    expect(first.event.message).toContain('SQL injection in a request');
    expect(first.fields).toEqual({ rule_id: 'sqli', severity: 'high', fingerprint: fixtureFindings()[0].fingerprint, status: 'new', src: '203.0.113.7', owasp: 'API8:2023', mitre_technique_id: 'T1190' });
    expect(second.fields.user).toBe('eve=admin|root\\x');
    expect(Object.values(second.fields).every((value) => typeof value === 'string')).toBe(true);
  });

  it('keeps the path of an endpoint that names one and leaves out an empty index', async () => {
    const exporter = await harness.start(harness.create(splunkHecExporterFactory, { endpoint: `${sink.url}/services/collector`, token: TOKEN, compression: 'none' }));

    await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
    await waitFor(() => sink.requests.length === 1, 5000, 'the request');

    expect(sink.requests[0].url).toBe('/services/collector');
    expect(sink.requests[0].headers['content-encoding']).toBeUndefined();
    expect(events(sink.requests[0])[0]).not.toHaveProperty('index');
  });

  it('merges queued findings into one request', async () => {
    const exporter = await harness.start(harness.create(splunkHecExporterFactory, { endpoint: sink.url, token: TOKEN, sending_queue: { batch: { min_size: 4, flush_timeout: 60_000 } } }));

    for (const finding of fixtureFindings()) await exporter.consume(findingsBatch([finding]));
    await waitFor(() => sink.requests.length === 1, 5000, 'the merged request');

    expect(events(sink.requests[0])).toHaveLength(4);
  });

  it('splits requests at max_content_length', async () => {
    const exporter = await harness.start(harness.create(splunkHecExporterFactory, { endpoint: sink.url, token: TOKEN, max_content_length: 2500 }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => sink.requests.length >= 2 && sink.requests.flatMap(events).length === 4, 5000, 'every event');

    for (const request of sink.requests) {
      const plain = gunzipSync(request.body);
      const count = events(request).length;
      expect(count === 1 || plain.length <= 2500).toBe(true);
    }
  });

  it('drops a batch the server rejects for a bad token', async () => {
    sink.responder = (_request, response) => response.writeHead(403).end('{"text":"Invalid token","code":4}');
    const exporter = await harness.start(harness.create(splunkHecExporterFactory, { endpoint: sink.url, token: TOKEN }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => harness.metric('watchpost_exporter_dropped_items_total', { exporter: 'splunk_hec', reason: 'permanent_error' }) === 4, 5000, 'the drop');
    await exporter.shutdown();

    expect(sink.requests).toHaveLength(1);
    expect(harness.log.lines.some((line) => JSON.stringify(line).includes(TOKEN))).toBe(false);
  });

  it('retries when the server is busy', async () => {
    let calls = 0;
    sink.responder = (request, response) => {
      calls++;
      if (calls === 1) response.writeHead(503, { 'retry-after': '0' }).end('{"text":"Server is busy","code":9}');
      else hecSuccess(request, response);
    };
    const exporter = await harness.start(harness.create(splunkHecExporterFactory, { endpoint: sink.url, token: TOKEN }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => harness.metric('watchpost_exporter_sent_items_total', { exporter: 'splunk_hec' }) === 4, 5000, 'the delivery');

    expect(sink.requests).toHaveLength(2);
  });

  it('sends the channel header when one is set', async () => {
    const channel = 'FE0ECFAD-13D5-401B-847D-77833BD77131';
    const exporter = await harness.start(harness.create(splunkHecExporterFactory, { endpoint: sink.url, token: TOKEN, channel }));

    await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
    await waitFor(() => sink.requests.length === 1, 5000, 'the request');

    expect(sink.requests[0].headers['x-splunk-request-channel']).toBe(channel);
  });

  it('requires a token', () => {
    expect(configErrors('splunk_hec', '    endpoint: https://127.0.0.1:8088')).toContain('missing required key "token"');
  });
});
