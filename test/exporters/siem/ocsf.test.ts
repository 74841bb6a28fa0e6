import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ocsfExporterFactory } from '../../../exporters/siem/ocsf/factory.js';
import { HttpSink } from '../../helpers/http-sink.js';
import { waitFor } from '../../helpers/wait.js';
import { configErrors } from '../config-errors.js';
import { ExporterHarness, findingsBatch, fixtureFindings } from '../harness.js';

type OcsfEvent = Record<string, any>;

describe('ocsf exporter', () => {
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

  it('posts Detection Finding events as a JSON array', async () => {
    const exporter = await harness.start(harness.create(ocsfExporterFactory, { endpoint: `${sink.url}/ocsf` }));
    const findings = fixtureFindings();

    await exporter.consume(findingsBatch(findings));
    await waitFor(() => sink.requests.length === 1, 5000, 'the request');

    expect(sink.requests[0].headers['content-type']).toBe('application/json');
    const [sqli, stuffing, scanner] = sink.json<OcsfEvent[]>()[0];
    expect(sqli.class_uid).toBe(2004);
    expect(sqli.category_uid).toBe(2);
    expect(sqli.activity_id).toBe(1);
    expect(sqli.type_uid).toBe(200401);
    expect(sqli.time).toBe(Date.parse(findings[0].time));
    expect(sqli.severity_id).toBe(4);
    expect(sqli.severity).toBe('High');
    expect(sqli.confidence_id).toBe(3);
    expect(sqli.metadata.version).toBe('1.3.0');
    expect(sqli.metadata.uid).toBe(findings[0].id);
    expect(sqli.metadata.product.name).toBe('Watchpost');
    expect(sqli.finding_info.title).toBe('SQL injection in a request');
    expect(sqli.finding_info.analytic).toEqual({ uid: 'sqli', name: 'SQL injection in a request', type_id: 1, type: 'Rule' });
    expect(sqli.finding_info.attacks).toEqual([{ technique: { uid: 'T1190' } }]);
    expect(sqli.finding_info.types).toEqual(['API8:2023', 'injection', 'sql']);
    expect(sqli.evidences[0].src_endpoint).toEqual({ ip: '203.0.113.7' });
    expect(sqli.evidences[0].http_request.http_method).toBe('GET');
    expect(sqli.evidences[0].data.trace_id).toBe('5b8efff798038103d269b633813fc60c');
    expect(stuffing.activity_id).toBe(2);
    expect(stuffing.type_uid).toBe(200402);
    expect(stuffing.severity_id).toBe(5);
    expect(scanner.severity_id).toBe(2);
    expect(scanner.finding_info).not.toHaveProperty('attacks');
  });

  it('gives a finding and its update the same finding_info.uid', async () => {
    const exporter = await harness.start(harness.create(ocsfExporterFactory, { endpoint: sink.url }));
    const created = fixtureFindings()[0];
    const updated = { ...created, id: 'a2f8c3d4-0000-4000-8000-000000000001', status: 'update' as const, count: 9, time: '2026-12-04T10:09:00.000Z' };

    await exporter.consume(findingsBatch([created, updated]));
    await waitFor(() => sink.requests.length === 1, 5000, 'the request');

    const [first, second] = sink.json<OcsfEvent[]>()[0];
    expect(second.finding_info.uid).toBe(first.finding_info.uid);
    expect(second.metadata.uid).not.toBe(first.metadata.uid);
  });

  it('sends NDJSON when asked', async () => {
    const exporter = await harness.start(harness.create(ocsfExporterFactory, { endpoint: sink.url, encoding: 'ndjson' }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => sink.requests.length === 1, 5000, 'the request');

    expect(sink.requests[0].headers['content-type']).toBe('application/x-ndjson');
    const lines = sink.requests[0].body.toString('utf8').trimEnd().split('\n');
    expect(lines.map((line) => (JSON.parse(line) as OcsfEvent).class_uid)).toEqual([2004, 2004, 2004, 2004]);
  });

  it('appends events to a file as JSON lines', async () => {
    const path = join(harness.directory.path, 'out', 'ocsf.jsonl');
    const exporter = await harness.start(harness.create(ocsfExporterFactory, { path }));

    await exporter.consume(findingsBatch(fixtureFindings().slice(0, 2)));
    await exporter.consume(findingsBatch(fixtureFindings().slice(2)));
    await exporter.shutdown();

    expect(existsSync(path)).toBe(true);
    const events = readFileSync(path, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as OcsfEvent);
    expect(events.map((event) => event.finding_info.analytic.uid)).toEqual(['sqli', 'credential-stuffing', 'scanner-ua', 'bola-enumeration']);
  });

  it('needs exactly one of endpoint and path', () => {
    expect(configErrors('ocsf', '    encoding: ndjson')).toContain('set exactly one of endpoint (HTTP) and path (file)');
    expect(configErrors('ocsf', '    endpoint: http://127.0.0.1:9/x\n    path: ./x.jsonl')).toContain('set exactly one of endpoint (HTTP) and path (file)');
  });
});
