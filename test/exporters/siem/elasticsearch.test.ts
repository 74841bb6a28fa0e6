import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { elasticsearchExporterFactory } from '../../../exporters/siem/elasticsearch/factory.js';
import { HttpSink, type ReceivedRequest } from '../../helpers/http-sink.js';
import { waitFor } from '../../helpers/wait.js';
import { configErrors } from '../config-errors.js';
import { ExporterHarness, findingsBatch, fixtureFindings } from '../harness.js';

interface BulkLine {
  action: { create: { _index: string; _id: string } };
  document: Record<string, any>;
}

/** Reads a `_bulk` body: NDJSON with an action line before each document, ending with a newline. */
function bulkLines(request: ReceivedRequest): BulkLine[] {
  const text = request.body.toString('utf8');
  if (!text.endsWith('\n')) throw new Error('a _bulk body must end with a newline');
  const lines = text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as Record<string, any>);
  const pairs: BulkLine[] = [];
  for (let i = 0; i < lines.length; i += 2) pairs.push({ action: lines[i] as BulkLine['action'], document: lines[i + 1] });
  return pairs;
}

/** Answers a bulk request as Elasticsearch does, with one item per action and the given statuses. */
function bulkResponse(response: ServerResponse, request: ReceivedRequest, statuses: number[]): void {
  const items = bulkLines(request).map((line, index) => {
    const status = statuses[index] ?? 201;
    const item: Record<string, unknown> = { _index: '.ds-logs-watchpost.findings-default-2026.12.04-000001', _id: line.action.create._id, status };
    if (status >= 300) item.error = { type: status === 429 ? 'es_rejected_execution_exception' : status === 409 ? 'version_conflict_engine_exception' : 'document_parsing_exception', reason: `status ${status}` };
    return { create: item };
  });
  response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ took: 3, errors: items.some((item) => item.create.status as number >= 300), items }));
}

describe('elasticsearch exporter', () => {
  let harness: ExporterHarness;
  let sink: HttpSink;

  beforeEach(async () => {
    harness = new ExporterHarness();
    sink = await new HttpSink().start();
    sink.responder = (request, response) => bulkResponse(response, request, []);
  });

  afterEach(async () => {
    await harness.close();
    await sink.stop();
  });

  it('writes ECS documents with create actions to _bulk', async () => {
    const exporter = await harness.start(harness.create(elasticsearchExporterFactory, { endpoints: [sink.url], user: 'watchpost', password: 's3cret' }));
    const findings = fixtureFindings();

    await exporter.consume(findingsBatch(findings));
    await waitFor(() => sink.requests.length === 1, 5000, 'the bulk request');

    const request = sink.requests[0];
    expect(request.url).toBe('/_bulk');
    expect(request.headers['content-type']).toBe('application/x-ndjson');
    expect(request.headers.authorization).toBe(`Basic ${Buffer.from('watchpost:s3cret').toString('base64')}`);
    const lines = bulkLines(request);
    expect(lines.map((line) => line.action.create)).toEqual(findings.map((finding) => ({ _index: 'logs-watchpost.findings-default', _id: finding.id })));
    const sqli = lines[0].document;
    expect(sqli['@timestamp']).toBe('2026-12-04T10:00:03.250Z');
    expect(sqli.event.kind).toBe('alert');
    expect(sqli.event.category).toEqual(['intrusion_detection', 'web']);
    expect(sqli.event.risk_score).toBe(73);
    expect(sqli.rule).toEqual({ id: 'sqli', name: 'SQL injection in a request', category: 'API8:2023', ruleset: 'watchpost' });
    expect(sqli.threat).toEqual({ framework: 'MITRE ATT&CK', technique: { id: ['T1190'] } });
    expect(sqli.source.ip).toBe('203.0.113.7');
    expect(sqli.http.request.method).toBe('GET');
    expect(sqli.url).toEqual({ path: '/products', domain: 'shop.example.com' });
    expect(sqli.user_agent.original).toBe('sqlmap/1.7.2#stable (https://sqlmap.org)');
    expect(lines[3].document.user.id).toBe('user-42');
    expect(lines[3].document).not.toHaveProperty('source');
  });

  it('retries only the documents answered 429 and drops the 400s', async () => {
    let calls = 0;
    sink.responder = (request, response) => {
      calls++;
      bulkResponse(response, request, calls === 1 ? [201, 400, 429, 409] : []);
    };
    const exporter = await harness.start(harness.create(elasticsearchExporterFactory, { endpoints: [sink.url], retry_on_failure: { initial_interval: 10, max_interval: 20 } }));
    const findings = fixtureFindings();

    await exporter.consume(findingsBatch(findings));
    await waitFor(() => sink.requests.length === 2, 5000, 'the retry');
    await exporter.shutdown();

    expect(bulkLines(sink.requests[1]).map((line) => line.action.create._id)).toEqual([findings[2].id]);
    expect(harness.metric('watchpost_exporter_sent_items_total', { exporter: 'elasticsearch' })).toBe(3);
    expect(harness.metric('watchpost_exporter_dropped_items_total', { exporter: 'elasticsearch', reason: 'permanent_error' })).toBe(1);
    const drop = harness.log.lines.find((line) => line.msg === 'exporter dropped data');
    expect(String(drop?.last_error)).toContain('400 document_parsing_exception');
  });

  it('moves to the next endpoint after a failed attempt', async () => {
    const dead = await new HttpSink().start();
    dead.responder = (_request, response) => response.writeHead(503).end();
    const exporter = await harness.start(harness.create(elasticsearchExporterFactory, { endpoints: [dead.url, sink.url], retry_on_failure: { initial_interval: 10, max_interval: 20 } }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => sink.requests.length === 1, 5000, 'the second endpoint');
    await dead.stop();

    expect(dead.requests).toHaveLength(1);
    expect(bulkLines(sink.requests[0])).toHaveLength(4);
  });

  it('sends an API key and the ingest pipeline', async () => {
    const exporter = await harness.start(harness.create(elasticsearchExporterFactory, { endpoints: [`${sink.url}/es/`], api_key: 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==', pipeline: 'findings' }));

    await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
    await waitFor(() => sink.requests.length === 1, 5000, 'the request');

    expect(sink.requests[0].url).toBe('/es/_bulk?pipeline=findings');
    expect(sink.requests[0].headers.authorization).toBe('ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==');
  });

  it('drops a batch the cluster rejects as a whole', async () => {
    sink.responder = (_request, response) => response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"type":"illegal_argument_exception","reason":"The bulk request must be terminated by a newline"},"status":400}');
    const exporter = await harness.start(harness.create(elasticsearchExporterFactory, { endpoints: [sink.url] }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => harness.metric('watchpost_exporter_dropped_items_total', { exporter: 'elasticsearch', reason: 'permanent_error' }) === 4, 5000, 'the drop');

    expect(sink.requests).toHaveLength(1);
  });

  it('rejects both an API key and a password', () => {
    expect(configErrors('elasticsearch', '    endpoints: [http://127.0.0.1:9200]\n    api_key: abc\n    user: u\n    password: p')).toContain('set either api_key or user and password, not both');
  });
});
