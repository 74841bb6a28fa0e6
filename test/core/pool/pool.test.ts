import { afterEach, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../../core/pool/pool.js';
import { silentLogger } from '../../../core/logger.js';
import { Counter } from '../../../core/telemetry/metrics.js';
import { WatchpostError } from '../../../core/errors.js';
import { encodeRequest } from '../../../core/otlp/codec.js';

const CRASH_MODULE = new URL('../../fixtures/pool/crash-worker.ts', import.meta.url).href;
const BROKEN_MODULE = new URL('../../fixtures/pool/broken-worker.ts', import.meta.url).href;

describe('worker pool', () => {
  let pool: WorkerPool | undefined;

  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('replaces a worker that dies and counts the failure', async () => {
    const failures = new Counter('failures', 'test');
    pool = new WorkerPool({ threads: 1, maxQueue: 0, stages: [], parsers: [], modules: [CRASH_MODULE], logger: silentLogger(), failures });

    const crash = pool.run('crash', null);

    await expect(crash).rejects.toMatchObject({ code: 'WP_ERR_WORKER', retryable: true });
    expect(failures.get({ reason: 'task_failed' })).toBe(1);
    await expect(pool.run('echo', { alive: true })).resolves.toEqual({ alive: true });
  });

  it('answers a decode error as a permanent error', async () => {
    pool = new WorkerPool({ threads: 1, maxQueue: 0, stages: [], parsers: [], modules: [], logger: silentLogger() });

    const result = pool.ingest({ signal: 'traces', payload: { kind: 'otlp_protobuf', bytes: Uint8Array.from([0x0a, 0xff, 0xff, 0xff]) }, stages: [] });

    await expect(result).rejects.toBeInstanceOf(WatchpostError);
    await expect(result).rejects.toMatchObject({ code: 'WP_ERR_RECEIVER_DECODE', retryable: false });
  });

  it('decodes a valid request in a worker', async () => {
    pool = new WorkerPool({ threads: 2, maxQueue: 0, stages: [], parsers: [], modules: [], logger: silentLogger() });
    const bytes = encodeRequest('logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'a' } }, { body: { stringValue: 'b' } }] }] }] });

    const result = await pool.ingest({ signal: 'logs', payload: { kind: 'otlp_protobuf', bytes }, stages: [] });

    expect(result.itemCount).toBe(2);
    expect(result.bytes).toBeUndefined();
  });

  it('is ready once a worker answers', async () => {
    pool = new WorkerPool({ threads: 2, maxQueue: 0, stages: [], parsers: [], modules: [CRASH_MODULE], logger: silentLogger() });

    await expect(pool.ready(20_000)).resolves.toBeUndefined();
  });

  it('reports workers that fail to set up instead of waiting for them', async () => {
    pool = new WorkerPool({ threads: 1, maxQueue: 0, stages: [], parsers: [], modules: [BROKEN_MODULE], logger: silentLogger() });

    const ready = pool.ready(20_000);

    await expect(ready).rejects.toMatchObject({ code: 'WP_ERR_WORKER', retryable: false });
    await expect(ready).rejects.toThrow(/failed to start: stage setup failed: invalid option/);
  });

  it.each([1, 2, 4])('closes after %i workers failed to set up', async (threads) => {
    const broken = new WorkerPool({ threads, maxQueue: 0, stages: [], parsers: [], modules: [BROKEN_MODULE], logger: silentLogger() });

    await expect(broken.ready(20_000)).rejects.toMatchObject({ code: 'WP_ERR_WORKER' });
    let closed = false;
    await Promise.race([broken.close().then(() => { closed = true; }), new Promise((resolve) => setTimeout(resolve, 5000))]);

    expect(closed).toBe(true);
  });

  it('refuses new tasks once closed', async () => {
    pool = new WorkerPool({ threads: 1, maxQueue: 0, stages: [], parsers: [], modules: [CRASH_MODULE], logger: silentLogger() });
    await pool.close();

    await expect(pool.run('echo', 1)).rejects.toMatchObject({ code: 'WP_ERR_SHUTTING_DOWN' });
  });
});
