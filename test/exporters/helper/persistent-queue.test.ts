import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../../core/data/finding.js';
import { OtlpBatch } from '../../../core/data/batch.js';
import { encodeRequest } from '../../../core/otlp/codec.js';
import { mergeDefaults } from '../../../core/config/schema.js';
import { defaultHelperConfig } from '../../../exporters/helper/config.js';
import { HttpClient } from '../../../exporters/helper/http.js';
import { PersistentQueue } from '../../../exporters/helper/queue.js';
import { QueuedExporter } from '../../../exporters/helper/sender.js';
import { HttpSink } from '../../helpers/http-sink.js';
import { waitFor } from '../../helpers/wait.js';
import { ExporterHarness, findingsBatch, fixtureFindings } from '../harness.js';

function persistentExporter(harness: ExporterHarness, url: string, queue = { size: 1000, consumers: 2 }): QueuedExporter {
  const client = new HttpClient();
  return new QueuedExporter({
    id: 'durable',
    config: mergeDefaults(defaultHelperConfig(), { timeout: 200, sending_queue: { storage: 'lmdb', num_consumers: queue.consumers, queue_size: queue.size }, retry_on_failure: { initial_interval: 10, max_interval: 20, max_elapsed_time: 0 } }),
    logger: harness.log.logger,
    metrics: harness.metrics,
    storage: harness.storage,
    send: async (batch, signal) => {
      await client.send(url, { body: JSON.stringify(batch.signal === 'findings' ? batch.findings : []), signal });
    },
    onShutdown: async () => client.close(),
  });
}

function queueKeys(harness: ExporterHarness): number {
  return [...harness.storage.database('exporter_queue/durable').getKeys()].length;
}

describe('persistent sending queue', () => {
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

  it('stores a batch in lmdb before consume resolves', async () => {
    sink.responder = () => undefined;
    const exporter = persistentExporter(harness, sink.url);
    await exporter.start(harness.host);

    await exporter.consume(findingsBatch(fixtureFindings()));

    expect(queueKeys(harness)).toBe(1);
    await sink.stop();
    await exporter.shutdown();
  });

  it('stays failing after a restart with a full queue', async () => {
    sink.responder = (_request, response) => response.writeHead(503).end();
    // One batch in flight and two waiting fill a queue of two.
    const small = { size: 2, consumers: 1 };
    const first = persistentExporter(harness, sink.url, small);
    await first.start(harness.host);
    for (let i = 0; i < 3; i++) await first.consume(findingsBatch(fixtureFindings()));
    await first.shutdown();

    const second = persistentExporter(harness, sink.url, small);
    await second.start(harness.host);
    await expect(second.consume(findingsBatch(fixtureFindings()))).rejects.toThrow('full');
    const since = harness.host.statuses.length;
    const requests = sink.requests.length;
    await waitFor(() => sink.requests.length >= requests + 4, 5000, 'retries of the recovered batches');

    expect(harness.host.statuses.slice(since).map((entry) => entry.status)).toEqual([]);
    expect(harness.host.lastStatus('durable')).toBe('failing');
    await second.shutdown();
  });

  it('removes a batch from lmdb once it is delivered', async () => {
    const exporter = persistentExporter(harness, sink.url);
    await exporter.start(harness.host);

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => sink.requests.length === 1 && queueKeys(harness) === 0, 5000, 'the delivery and the removal');

    expect(sink.json<Finding[]>()[0]).toHaveLength(4);
    await exporter.shutdown();
  });

  it('keeps undelivered batches across a restart and drains them after it', async () => {
    sink.responder = (_request, response) => response.writeHead(503).end();
    const first = persistentExporter(harness, sink.url);
    await first.start(harness.host);
    const findings = fixtureFindings();
    for (const finding of findings) await first.consume(findingsBatch([finding]));
    await waitFor(() => sink.requests.length >= 2, 5000, 'failed attempts');
    await first.shutdown();
    await harness.reopenStorage();
    sink.requests.length = 0;
    sink.responder = (_request, response) => response.end();

    const second = persistentExporter(harness, sink.url);
    await second.start(harness.host);
    await waitFor(() => sink.requests.length === 4, 5000, 'the drained queue');
    await waitFor(() => queueKeys(harness) === 0, 5000, 'an empty queue on disk');

    const ids = sink.json<Finding[]>().flat().map((finding) => finding.id).sort();
    expect(ids).toEqual(findings.map((finding) => finding.id).sort());
    expect(harness.log.lines.some((line) => line.msg === 'resuming queued batches from disk' && line.batches === 4)).toBe(true);
    await second.shutdown();
  });

  it('round-trips a telemetry batch through lmdb with its bytes intact', async () => {
    const queue = PersistentQueue.open(harness.storage, 'telemetry', 10);
    const request = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityText: 'INFO', body: { stringValue: 'hello' } }] }] }] };
    const bytes = encodeRequest('logs', request);

    await queue.push(OtlpBatch.fromBytes('logs', bytes, 1, { receiver: 'otlp' }));
    const entry = queue.take();

    expect(entry?.batch.signal).toBe('logs');
    expect(Buffer.from((entry?.batch as OtlpBatch).toBytes()).equals(Buffer.from(bytes))).toBe(true);
    expect(entry?.batch.itemCount).toBe(1);
    expect(entry?.batch.origin).toEqual({ receiver: 'otlp' });
  });

  it('skips and counts a record it cannot read', async () => {
    const database = harness.storage.database<unknown, number>('exporter_queue/broken');
    await database.put(1, { v: 99, signal: 'findings' });
    await database.put(2, { v: 1, signal: 'findings', origin: { receiver: 'detection' }, findings: '[]' });
    const queue = PersistentQueue.open(harness.storage, 'broken', 10);

    const entry = queue.take();

    expect(entry?.key).toBe(2);
    expect(queue.unreadable).toBe(1);
  });

  it('rejects a push past its capacity', async () => {
    const queue = PersistentQueue.open(harness.storage, 'small', 1);
    await queue.push(findingsBatch(fixtureFindings()));

    await expect(queue.push(findingsBatch(fixtureFindings()))).rejects.toThrow('sending queue is full (1 batches)');
  });
});
