import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../../core/cli/builtins.js';
import { loadConfigText } from '../../../core/config/load.js';
import { OtlpBatch } from '../../../core/data/batch.js';
import { silentLogger } from '../../../core/logger.js';
import { Service } from '../../../core/service.js';
import { captured, captureExporterFactory, lifecycle, sources, testSourceFactory } from '../../helpers/components.js';
import { tempDirectory } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

const registry = builtinRegistry().register(testSourceFactory, captureExporterFactory);

function logsBatch(body: string): OtlpBatch {
  return OtlpBatch.fromMessage('logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: body } }] }] }] }, { receiver: 'test' });
}

describe('service pipelines', () => {
  let directory: ReturnType<typeof tempDirectory>;
  let service: Service | undefined;

  beforeEach(() => {
    directory = tempDirectory();
    lifecycle.length = 0;
    sources.clear();
    captured.clear();
  });

  afterEach(async () => {
    await service?.shutdown();
    service = undefined;
    directory.cleanup();
  });

  async function start(yaml: string): Promise<Service> {
    const config = loadConfigText(`${yaml}\n  storage: { directory: ${directory.path} }\n  admin: { endpoint: 127.0.0.1:0 }\n  worker_pool: { threads: 1 }\n  shutdown_timeout: 2s\n`, 'inline.yaml', registry, {});
    service = new Service(config, silentLogger());
    await service.start();
    return service;
  }

  it('delivers to a working exporter beside a failing one', async () => {
    await start(`
receivers:
  test_source: {}
exporters:
  capture/good: {}
  capture/bad: { mode: fail }
service:
  pipelines:
    logs: { receivers: [test_source], exporters: [capture/bad, capture/good] }`);
    const input = sources.get('test_source')?.logs;
    for (let i = 0; i < 5; i++) await input?.consume(logsBatch(`record ${i}`));

    await waitFor(() => captured.get('capture/good')?.length === 5, 5000, 'five batches at the working exporter');
    expect(captured.get('capture/bad')).toEqual([]);
    await waitFor(() => service?.metrics.exporterSendFailed.get({ exporter: 'capture/bad', signal: 'logs' }) === 5, 5000, 'the failures to be counted');
  });

  it('delivers to a working exporter beside a hanging one', async () => {
    await start(`
receivers:
  test_source: {}
exporters:
  capture/good: {}
  capture/stuck: { mode: hang, timeout: 60s, sending_queue: { queue_size: 2, num_consumers: 1 } }
service:
  pipelines:
    logs: { receivers: [test_source], exporters: [capture/stuck, capture/good] }`);
    const input = sources.get('test_source')?.logs;
    const results = [];
    for (let i = 0; i < 6; i++) results.push(await input?.consume(logsBatch(`record ${i}`)).then(() => 'ok', (error: Error) => error.message));

    await waitFor(() => captured.get('capture/good')?.length === 6, 5000, 'six batches at the working exporter');
    // The stuck exporter holds one batch in flight and two queued; then its queue is full and
    // the sender is told to retry, while the working exporter still received every batch.
    expect(results.slice(0, 3)).toEqual(['ok', 'ok', 'ok']);
    expect(results[3]).toMatch(/sending queue is full/);
  });

  it('fans one receiver out to several pipelines, each with its own copy', async () => {
    await start(`
receivers:
  test_source: {}
exporters:
  capture/a: {}
  capture/b: {}
service:
  pipelines:
    logs/a: { receivers: [test_source], exporters: [capture/a] }
    logs/b: { receivers: [test_source], exporters: [capture/b] }`);
    const batch = logsBatch('shared');
    await sources.get('test_source')?.logs?.consume(batch);

    await waitFor(() => captured.get('capture/a')?.length === 1 && captured.get('capture/b')?.length === 1, 5000, 'both pipelines');
    const [a, b] = [captured.get('capture/a')?.[0], captured.get('capture/b')?.[0]];
    expect(a).not.toBe(b);
    expect(JSON.stringify((b as OtlpBatch).toMessage())).toContain('shared');
  });

  it('merges several receivers into one pipeline', async () => {
    await start(`
receivers:
  test_source/one: {}
  test_source/two: {}
exporters:
  capture: {}
service:
  pipelines:
    logs: { receivers: [test_source/one, test_source/two], exporters: [capture] }`);
    await sources.get('test_source/one')?.logs?.consume(logsBatch('one'));
    await sources.get('test_source/two')?.logs?.consume(logsBatch('two'));

    await waitFor(() => captured.get('capture')?.length === 2, 5000, 'both batches');
  });

  it('starts exporters first and stops receivers first', async () => {
    await start(`
receivers:
  test_source: {}
exporters:
  capture: {}
service:
  pipelines:
    logs: { receivers: [test_source], exporters: [capture] }`);
    await service?.shutdown();

    expect(lifecycle).toEqual(['start:capture', 'start:test_source', 'shutdown:test_source', 'shutdown:capture']);
  });

  it('drains queued batches at shutdown', async () => {
    await start(`
receivers:
  test_source: {}
exporters:
  capture: { sending_queue: { num_consumers: 1 } }
service:
  pipelines:
    logs: { receivers: [test_source], exporters: [capture] }`);
    const input = sources.get('test_source')?.logs;
    for (let i = 0; i < 50; i++) await input?.consume(logsBatch(`record ${i}`));
    await service?.shutdown();

    expect(captured.get('capture')).toHaveLength(50);
  });

  it('shuts down twice without error', async () => {
    await start(`
receivers:
  test_source: {}
exporters:
  capture: {}
service:
  pipelines:
    logs: { receivers: [test_source], exporters: [capture] }`);
    await service?.shutdown();
    await service?.shutdown();

    expect(lifecycle.filter((event) => event === 'shutdown:capture')).toHaveLength(1);
  });
});
