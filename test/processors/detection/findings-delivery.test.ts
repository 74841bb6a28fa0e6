import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../core/logger.js';
import type { Batch } from '../../../core/data/batch.js';
import type { Finding } from '../../../core/data/finding.js';
import { retryableError } from '../../../core/errors.js';
import { Storage } from '../../../core/storage/storage.js';
import { MetricsRegistry, PipelineMetrics } from '../../../core/telemetry/metrics.js';
import { Admission } from '../../../core/admission.js';
import { AdminServer } from '../../../core/admin/server.js';
import { FindingsBus } from '../../../core/findings-bus.js';
import type { Consumer, Host, SharedComponent } from '../../../core/component.js';
import { FanoutConsumer } from '../../../core/pipeline/fanout.js';
import type { WorkerPool } from '../../../core/pool/pool.js';
import { detectionProcessorFactory, stageOptionsFor } from '../../../processors/detection/factory.js';
import { createDefaultConfig } from '../../../processors/detection/config.js';
import { DetectionStage, type EventMatch } from '../../../processors/detection/worker.js';
import { eventFromFields } from '../../../processors/detection/event.js';
import { tempDirectory } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

/*
 * Findings the findings pipelines reject (their queues full): the request that raised them fails
 * with the same retryable error, and the findings are held and sent again.
 */

const T0 = Date.UTC(2024, 5, 1, 12);

interface Delivery {
  storage: Storage;
  shared: SharedComponent<{ process(matches: EventMatch[]): Promise<void> }>;
  metrics: PipelineMetrics;
  delivered: Finding[];
  matches: EventMatch[];
}

/** Builds an exporter stand-in that rejects its first `rejections` batches as a full queue would, then keeps what it gets. */
function flakyExporter(rejections: number): { consumer: Consumer; delivered: Finding[] } {
  const delivered: Finding[] = [];
  let left = rejections;
  const consumer: Consumer = {
    consume: async (batch: Batch) => {
      if (left > 0) {
        left--;
        throw retryableError('WP_ERR_EXPORTER_QUEUE_FULL', 'the sending queue of exporter file/findings is full');
      }
      if (batch.signal === 'findings') delivered.push(...batch.findings);
    },
  };
  return { consumer, delivered };
}

async function startDetection(directory: string, rejections: number, other?: Consumer): Promise<Delivery> {
  const config = createDefaultConfig();
  config.state.persist = false;
  const metrics = new PipelineMetrics(new MetricsRegistry());
  const flaky = flakyExporter(rejections);
  const delivered = flaky.delivered;
  const output: Consumer = other ? new FanoutConsumer([other, flaky.consumer], false) : flaky.consumer;
  const storage = new Storage(directory);
  const settings = {
    id: 'detection', config, logger: silentLogger(), metrics, pool: undefined as unknown as WorkerPool,
    storage, admission: new Admission(), outputs: { findings: output },
  };
  const shared = detectionProcessorFactory.createShared?.(settings) as Delivery['shared'];
  const host: Host = { admin: new AdminServer('127.0.0.1:0', silentLogger()), findingsBus: new FindingsBus(), reportStatus: () => undefined };
  await shared.start(host);
  const stage = new DetectionStage(stageOptionsFor(config));
  const matches: EventMatch[] = [];
  stage.evaluate(eventFromFields({ 'http.request.method': 'GET', 'url.path': '/.env', 'http.response.status_code': 404, 'client.address': '203.0.113.9' }, T0, stage.extractOptions), matches);
  return { storage, shared, metrics, delivered, matches };
}

describe('findings a full queue rejects', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  it('fails the request, delivers later', async () => {
    const directory = tempDirectory();
    cleanup = directory.cleanup;
    const detection = await startDetection(directory.path, 2);

    await expect(detection.shared.value.process(detection.matches)).rejects.toMatchObject({ code: 'WP_ERR_EXPORTER_QUEUE_FULL', retryable: true });
    const delivered = await waitFor(() => detection.delivered.find((finding) => finding.rule.id === 'sensitive-file'), 10_000, 'the held finding');

    expect(delivered.status).toBe('new');
    expect(detection.metrics.processorDropped.get({ processor: 'detection', signal: 'findings', reason: 'findings_pipeline_refused' })).toBe(0);
    await detection.shared.shutdown();
    await detection.storage.close();
  });

  it('drops findings held at shutdown', async () => {
    const directory = tempDirectory();
    cleanup = directory.cleanup;
    const detection = await startDetection(directory.path, Number.POSITIVE_INFINITY);

    await expect(detection.shared.value.process(detection.matches)).rejects.toMatchObject({ retryable: true });
    await detection.shared.shutdown();
    await detection.storage.close();

    expect(detection.delivered).toEqual([]);
    expect(detection.metrics.processorDropped.get({ processor: 'detection', signal: 'findings', reason: 'findings_pipeline_refused' })).toBeGreaterThanOrEqual(1);
  });

  it('queues later findings behind held ones', async () => {
    const directory = tempDirectory();
    cleanup = directory.cleanup;
    const detection = await startDetection(directory.path, 1);
    const stage = new DetectionStage(stageOptionsFor(createDefaultConfig()));
    const second: EventMatch[] = [];
    stage.evaluate(eventFromFields({ 'http.request.method': 'GET', 'url.path': '/.git/config', 'http.response.status_code': 404, 'client.address': '203.0.113.10' }, T0 + 1000, stage.extractOptions), second);

    await expect(detection.shared.value.process(detection.matches)).rejects.toMatchObject({ retryable: true });
    await expect(detection.shared.value.process(second)).rejects.toMatchObject({ code: 'WP_ERR_EXPORTER_QUEUE_FULL', retryable: true });
    await waitFor(() => detection.delivered.length >= 2, 10_000, 'both held findings');

    expect(detection.delivered.map((finding) => finding.key['client.address'])).toEqual(['203.0.113.9', '203.0.113.10']);
    await detection.shared.shutdown();
    await detection.storage.close();
  });

  it('resends only to the rejecting exporter', async () => {
    const directory = tempDirectory();
    cleanup = directory.cleanup;
    const steady = flakyExporter(0);
    const detection = await startDetection(directory.path, 3, steady.consumer);

    await expect(detection.shared.value.process(detection.matches)).rejects.toMatchObject({ retryable: true });
    await waitFor(() => detection.delivered.length > 0, 10_000, 'the held finding');

    expect(steady.delivered).toHaveLength(1);
    expect(detection.delivered).toHaveLength(1);
    await detection.shared.shutdown();
    await detection.storage.close();
  });
});
