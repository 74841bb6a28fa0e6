import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Batch } from '../../../core/data/batch.js';
import type { Finding } from '../../../core/data/finding.js';
import { WatchpostError } from '../../../core/errors.js';
import { mergeDefaults } from '../../../core/config/schema.js';
import { defaultHelperConfig, type ExporterHelperConfig } from '../../../exporters/helper/config.js';
import { HttpClient } from '../../../exporters/helper/http.js';
import { QueuedExporter, type QueuedExporterOptions } from '../../../exporters/helper/sender.js';
import { SendError } from '../../../exporters/helper/errors.js';
import { HttpSink } from '../../helpers/http-sink.js';
import { waitFor } from '../../helpers/wait.js';
import { ExporterHarness, findingsBatch, fixtureFindings } from '../harness.js';

type HelperOverrides = { [K in keyof ExporterHelperConfig]?: Partial<ExporterHelperConfig[K]> | number };

/** A findings exporter that POSTs each batch as a JSON array, built only from the helper. */
function jsonExporter(harness: ExporterHarness, url: string, overrides: HelperOverrides, extra: Partial<QueuedExporterOptions> = {}): { exporter: QueuedExporter; waits: number[] } {
  const client = new HttpClient();
  const waits: number[] = [];
  const exporter = new QueuedExporter({
    id: extra.id ?? 'json',
    config: mergeDefaults(defaultHelperConfig(), overrides),
    logger: harness.log.logger,
    metrics: harness.metrics,
    storage: harness.storage,
    send: async (batch: Batch, signal: AbortSignal) => {
      const findings = batch.signal === 'findings' ? batch.findings : [];
      await client.send(url, { body: JSON.stringify(findings), headers: { 'content-type': 'application/json' }, signal });
    },
    sleep: async (ms) => {
      waits.push(ms);
    },
    onShutdown: async () => client.close(),
    ...extra,
  });
  return { exporter, waits };
}

function one(): Finding[] {
  return fixtureFindings().slice(0, 1);
}

describe('QueuedExporter', () => {
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

  it('delivers a queued batch and counts it as sent', async () => {
    const { exporter } = jsonExporter(harness, sink.url, {});
    await exporter.start(harness.host);

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => sink.requests.length === 1, 5000, 'the request');
    await exporter.shutdown();

    expect(sink.json<Finding[]>()[0]).toHaveLength(4);
    expect(harness.metric('watchpost_exporter_sent_items_total', { exporter: 'json', signal: 'findings' })).toBe(4);
  });

  it('waits as long as Retry-After asks after a 429', async () => {
    let calls = 0;
    sink.responder = (_request, response) => {
      calls++;
      if (calls === 1) response.writeHead(429, { 'retry-after': '7' }).end('slow down');
      else response.end();
    };
    const { exporter, waits } = jsonExporter(harness, sink.url, {});
    await exporter.start(harness.host);

    await exporter.consume(findingsBatch(one()));
    await waitFor(() => sink.requests.length === 2, 5000, 'the retry');
    await exporter.shutdown();

    expect(waits).toEqual([7000]);
    expect(harness.metric('watchpost_exporter_sent_items_total', { exporter: 'json' })).toBe(1);
  });

  it('backs off with jitter around the configured intervals after 500s', async () => {
    let calls = 0;
    sink.responder = (_request, response) => {
      calls++;
      response.writeHead(calls <= 3 ? 500 : 200).end();
    };
    const { exporter, waits } = jsonExporter(harness, sink.url, { retry_on_failure: { initial_interval: 1000, multiplier: 2, randomization_factor: 0.5, max_interval: 3000 } });
    await exporter.start(harness.host);

    await exporter.consume(findingsBatch(one()));
    await waitFor(() => sink.requests.length === 4, 5000, 'three retries');
    await exporter.shutdown();

    expect(waits).toHaveLength(3);
    expect(waits[0]).toBeGreaterThanOrEqual(500);
    expect(waits[0]).toBeLessThanOrEqual(1500);
    expect(waits[1]).toBeGreaterThanOrEqual(1000);
    expect(waits[1]).toBeLessThanOrEqual(3000);
    expect(waits[2]).toBeGreaterThanOrEqual(1500);
    expect(waits[2]).toBeLessThanOrEqual(4500);
    expect(harness.host.statuses.map((entry) => entry.status)).toEqual(['degraded', 'degraded', 'degraded', 'ok']);
  });

  it('drops a batch answered with 400 without retrying', async () => {
    sink.responder = (_request, response) => response.writeHead(400).end('bad event');
    const { exporter, waits } = jsonExporter(harness, sink.url, {});
    await exporter.start(harness.host);

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => harness.metric('watchpost_exporter_dropped_items_total', { exporter: 'json', reason: 'permanent_error' }) === 4, 5000, 'the drop');
    await exporter.shutdown();

    expect(sink.requests).toHaveLength(1);
    expect(waits).toEqual([]);
    const dropLines = harness.log.lines.filter((line) => line.msg === 'exporter dropped data');
    expect(dropLines).toHaveLength(1);
    expect(dropLines[0].dropped).toEqual({ permanent_error: 4 });
    expect(String(dropLines[0].last_error)).toContain('HTTP 400: bad event');
  });

  it('gives up on a hanging server after each per-attempt timeout and retries', async () => {
    let calls = 0;
    sink.responder = (_request, response) => {
      calls++;
      if (calls > 1) response.end();
    };
    const { exporter, waits } = jsonExporter(harness, sink.url, { timeout: 200 });
    await exporter.start(harness.host);

    await exporter.consume(findingsBatch(one()));
    await waitFor(() => harness.metric('watchpost_exporter_sent_items_total', { exporter: 'json' }) === 1, 5000, 'the second attempt');
    await exporter.shutdown();

    expect(sink.requests).toHaveLength(2);
    expect(waits).toHaveLength(1);
  });

  it('drops a batch once max_elapsed_time is spent', async () => {
    sink.responder = (_request, response) => response.writeHead(503, { 'retry-after': '20' }).end();
    const { exporter } = jsonExporter(harness, sink.url, { retry_on_failure: { max_elapsed_time: 10_000 } });
    await exporter.start(harness.host);

    await exporter.consume(findingsBatch(one()));
    await waitFor(() => harness.metric('watchpost_exporter_dropped_items_total', { exporter: 'json', reason: 'retries_exhausted' }) === 1, 5000, 'the drop');
    await exporter.shutdown();

    expect(sink.requests).toHaveLength(1);
    expect(harness.host.lastStatus('json')).toBe('failing');
  });

  it('rejects batches with a retryable error when the queue is full', async () => {
    sink.responder = () => undefined;
    const { exporter } = jsonExporter(harness, sink.url, { timeout: 0, sending_queue: { queue_size: 2, num_consumers: 1 } });
    await exporter.start(harness.host);

    for (let i = 0; i < 3; i++) await exporter.consume(findingsBatch(one()));
    const error = await exporter.consume(findingsBatch(one())).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(WatchpostError);
    expect((error as WatchpostError).code).toBe('WP_ERR_EXPORTER_QUEUE_FULL');
    expect((error as WatchpostError).retryable).toBe(true);
    expect(harness.metric('watchpost_exporter_enqueue_failed_items_total', { exporter: 'json' })).toBe(1);
    expect(harness.host.lastStatus('json')).toBe('failing');
    await sink.stop();
  });

  it('stays failing while retries go on and the queue stays full', async () => {
    sink.responder = (_request, response) => response.writeHead(503).end();
    const { exporter } = jsonExporter(harness, sink.url, { sending_queue: { queue_size: 2, num_consumers: 1 } }, { sleep: () => new Promise((resolve) => setTimeout(resolve, 20)) });
    await exporter.start(harness.host);

    for (let i = 0; i < 3; i++) await exporter.consume(findingsBatch(one()));
    await exporter.consume(findingsBatch(one())).catch(() => undefined);
    const since = harness.host.statuses.length;
    await waitFor(() => sink.requests.length >= 4, 5000, 'retries while the queue is full');

    expect(harness.host.statuses.slice(since).map((entry) => entry.status)).toEqual([]);
    expect(harness.host.lastStatus('json')).toBe('failing');
    sink.responder = (_request, response) => response.writeHead(200).end();
    await waitFor(() => harness.host.lastStatus('json') === 'ok', 5000, 'recovery');
    await exporter.shutdown();
  });

  it('keeps delivering to a live endpoint while another exporter hangs', async () => {
    const dead = await new HttpSink().start();
    dead.responder = () => undefined;
    const slow = jsonExporter(harness, dead.url, { timeout: 0 }, { id: 'dead' }).exporter;
    const fast = jsonExporter(harness, sink.url, {}, { id: 'live' }).exporter;
    await slow.start(harness.host);
    await fast.start(harness.host);

    for (let i = 0; i < 20; i++) {
      await slow.consume(findingsBatch(one()));
      await fast.consume(findingsBatch(one()));
    }
    await waitFor(() => sink.requests.length === 20, 5000, 'every batch at the live endpoint');

    expect(dead.requests.length).toBeLessThanOrEqual(10);
    await fast.shutdown();
    await dead.stop();
    await slow.shutdown();
  });

  it('merges queued batches up to min_size and splits at max_size', async () => {
    sink.responder = (_request, response) => response.end();
    const { exporter } = jsonExporter(harness, sink.url, {
      sending_queue: { num_consumers: 1, batch: { enabled: true, min_size: 6, max_size: 6, flush_timeout: 60_000, max_bytes: 0 } },
    });
    const findings = fixtureFindings();
    await exporter.start(harness.host);

    for (let i = 0; i < 3; i++) await exporter.consume(findingsBatch(findings));
    await waitFor(() => sink.requests.length >= 1, 5000, 'the first merged request');
    await exporter.shutdown();

    const sizes = sink.json<Finding[]>().map((request) => request.length);
    expect(sizes[0]).toBe(6);
    expect(Math.max(...sizes)).toBe(6);
    expect(sizes.reduce((total, size) => total + size, 0)).toBe(12);
  });

  it('flushes a partial batch when flush_timeout passes', async () => {
    const { exporter } = jsonExporter(harness, sink.url, { sending_queue: { batch: { enabled: true, min_size: 1000, flush_timeout: 50, max_size: 0, max_bytes: 0 } } });
    await exporter.start(harness.host);

    await exporter.consume(findingsBatch(one()));
    await waitFor(() => sink.requests.length === 1, 5000, 'the flushed request');
    await exporter.shutdown();

    expect(sink.json<Finding[]>()[0]).toHaveLength(1);
  });

  it('retries only the remaining items of a partial failure', async () => {
    const sent: number[] = [];
    let first = true;
    const exporter = new QueuedExporter({
      id: 'partial',
      config: defaultHelperConfig(),
      logger: harness.log.logger,
      metrics: harness.metrics,
      sleep: async () => undefined,
      send: async (batch, _signal, context) => {
        sent.push(batch.itemCount);
        if (!first) return;
        first = false;
        const findings = batch.signal === 'findings' ? batch.findings : [];
        context.drop(1, 'permanent_error');
        throw new SendError('2 documents answered 429', { retryable: true, remaining: findingsBatch(findings.slice(2)) });
      },
    });
    await exporter.start(harness.host);

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => sent.length === 2, 5000, 'the second attempt');
    await exporter.shutdown();

    expect(sent).toEqual([4, 2]);
    expect(harness.metric('watchpost_exporter_sent_items_total', { exporter: 'partial' })).toBe(3);
    expect(harness.metric('watchpost_exporter_dropped_items_total', { exporter: 'partial', reason: 'permanent_error' })).toBe(1);
  });

  it('drains the memory queue with one more attempt at shutdown', async () => {
    sink.responder = (_request, response) => response.writeHead(500).end();
    const { exporter } = jsonExporter(harness, sink.url, { sending_queue: { num_consumers: 1 } }, { sleep: (_ms, signal) => new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })) });
    await exporter.start(harness.host);
    await exporter.consume(findingsBatch(one()));
    await exporter.consume(findingsBatch(one()));
    await waitFor(() => sink.requests.length === 1, 5000, 'the first attempt');

    await exporter.shutdown();

    expect(sink.requests).toHaveLength(3);
    expect(harness.metric('watchpost_exporter_dropped_items_total', { exporter: 'json', reason: 'shutdown' })).toBe(2);
  });
});
