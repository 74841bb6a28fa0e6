import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { probabilisticSamplerFactory } from '../../processors/sampling/probabilistic_sampler/factory.js';
import { hashBucket, keeps, sampleLogs, sampleTraces, scaledSamplingRate } from '../../processors/sampling/probabilistic_sampler/sampler.js';
import type { ProbabilisticSamplerConfig } from '../../processors/sampling/probabilistic_sampler/config.js';
import { CaptureConsumer, encodedBatch, hex, logs, logsBatch, ProcessorHarness, randomTraceId, record, seededRandom, span, traceIdHex, traces, tracesBatch } from './helpers.js';

interface Vector {
  seed: number;
  trace_id: string;
  percentage: number;
  bucket: number;
  scaled_rate: number;
  kept: boolean;
}

const vectors = JSON.parse(readFileSync(new URL('../fixtures/sampling/hash_seed_vectors.json', import.meta.url), 'utf8')) as Vector[];

/** Decides like the Collector, written from the algorithm description with BigInt FNV-1a and Float32Array arithmetic. */
function referenceKeeps(seed: number, traceId: Uint8Array, percentage: number): boolean {
  let hash = 0x811c9dc5n;
  const seedBytes = [seed & 0xff, (seed >>> 8) & 0xff, (seed >>> 16) & 0xff, (seed >>> 24) & 0xff];
  for (const byte of [...seedBytes, ...traceId]) hash = ((hash ^ BigInt(byte)) * 0x01000193n) % 0x100000000n;
  const float32 = new Float32Array(3);
  float32[0] = Math.min(percentage, 100);
  float32[1] = 163.84;
  float32[2] = float32[0] * float32[1];
  return Number(hash & 0x3fffn) < Math.trunc(float32[2]);
}

function config(overrides: Partial<ProbabilisticSamplerConfig>): ProbabilisticSamplerConfig {
  return { ...probabilisticSamplerFactory.createDefaultConfig(), ...overrides };
}

describe('probabilistic_sampler hash_seed decision', () => {
  it('matches the Python-computed vectors', () => {
    for (const vector of vectors) {
      const traceId = hex(vector.trace_id);
      expect(hashBucket(vector.seed, traceId), `bucket of ${vector.trace_id} seed ${vector.seed}`).toBe(vector.bucket);
      expect(scaledSamplingRate(vector.percentage), `scaled rate of ${vector.percentage}`).toBe(vector.scaled_rate);
      expect(keeps(vector.seed, traceId, vector.percentage), `${vector.trace_id} seed ${vector.seed} at ${vector.percentage}%`).toBe(vector.kept);
    }
  });

  it('agrees with an independent reference on random ids', () => {
    const random = seededRandom(7);
    for (let i = 0; i < 3000; i++) {
      const traceId = hex(randomTraceId(random));
      const seed = Math.floor(random() * 0xffffffff);
      const percentage = Math.round(random() * 10000) / 100;
      expect(keeps(seed, traceId, percentage)).toBe(referenceKeeps(seed, traceId, percentage));
    }
  });

  it('keeps close to the configured share', () => {
    const random = seededRandom(11);
    let kept = 0;
    for (let i = 0; i < 20_000; i++) if (keeps(0, hex(randomTraceId(random)), 10)) kept++;
    expect(kept / 20_000).toBeGreaterThan(0.09);
    expect(kept / 20_000).toBeLessThan(0.11);
  });

  it('keeps a trace at a higher percentage when a lower one keeps it', () => {
    const random = seededRandom(3);
    for (let i = 0; i < 2000; i++) {
      const traceId = hex(randomTraceId(random));
      if (keeps(5, traceId, 10)) expect(keeps(5, traceId, 50)).toBe(true);
    }
  });
});

describe('probabilistic_sampler traces', () => {
  it('keeps or drops all spans of a trace together', () => {
    const random = seededRandom(5);
    const ids = Array.from({ length: 200 }, () => randomTraceId(random));
    const request = traces({ api: ids.flatMap((traceId) => [span({ traceId }), span({ traceId, kind: 1 })]) });

    const counts = sampleTraces(request, config({ sampling_percentage: 30, hash_seed: 9 }));

    const keptIds = new Set((request.resourceSpans ?? []).flatMap((resource) => (resource.scopeSpans ?? []).flatMap((scope) => (scope.spans ?? []).map(traceIdHex))));
    const expected = ids.filter((traceId) => keeps(9, hex(traceId), 30));
    expect([...keptIds].sort()).toEqual([...expected].sort());
    expect(counts.kept).toBe(expected.length * 2);
    expect(counts.dropped).toBe((ids.length - expected.length) * 2);
  });

  it('sampling.priority 0 drops a span at 100%', () => {
    const request = traces({ api: [span({ traceId: 'aa'.repeat(16), attributes: { 'sampling.priority': 0 } })] });
    const counts = sampleTraces(request, config({ sampling_percentage: 100 }));
    expect(counts.kept).toBe(0);
    expect(counts.byPolicy['sampling_priority/false']).toBe(1);
    expect(request.resourceSpans).toEqual([]);
  });

  it('positive sampling.priority keeps a span at 0%', () => {
    const request = traces({ api: [
      span({ traceId: 'aa'.repeat(16), attributes: { 'sampling.priority': 1 } }),
      span({ traceId: 'bb'.repeat(16), attributes: { 'sampling.priority': '2.5' } }),
      span({ traceId: 'cc'.repeat(16), attributes: { 'sampling.priority': 0.5 } }),
    ] });
    expect(sampleTraces(request, config({ sampling_percentage: 0 })).kept).toBe(3);
  });

  it('negative or textual sampling.priority leaves the hash to decide', () => {
    const request = traces({ api: [
      span({ traceId: 'aa'.repeat(16), attributes: { 'sampling.priority': -1 } }),
      span({ traceId: 'bb'.repeat(16), attributes: { 'sampling.priority': 'high' } }),
    ] });
    const counts = sampleTraces(request, config({ sampling_percentage: 0 }));
    expect(counts.kept).toBe(0);
    expect(counts.byPolicy['trace_id_hash/false']).toBe(2);
  });
});

describe('probabilistic_sampler logs', () => {
  const kept = 'c1'.repeat(16);

  it('samples records by trace id like spans', () => {
    const random = seededRandom(21);
    const ids = Array.from({ length: 100 }, () => randomTraceId(random));
    const request = logs(ids.map((traceId) => record({ traceId })));
    const counts = sampleLogs(request, config({ sampling_percentage: 40, hash_seed: 77 }));
    expect(counts.kept).toBe(ids.filter((traceId) => keeps(77, hex(traceId), 40)).length);
  });

  it('hashes from_attribute for records without a trace id', () => {
    const request = logs(['pod-a', 'pod-b', 'pod-c', 'pod-d'].map((pod) => record({ attributes: { 'k8s.pod.name': pod } })));
    const counts = sampleLogs(request, config({ sampling_percentage: 50, from_attribute: 'k8s.pod.name' }));
    const expected = ['pod-a', 'pod-b', 'pod-c', 'pod-d'].filter((pod) => keeps(0, Buffer.from(pod), 50)).length;
    expect(counts.kept).toBe(expected);
    expect(counts.byPolicy[`attribute_hash/true`] ?? 0).toBe(expected);
  });

  it('record source ignores the trace id', () => {
    const request = logs([record({ traceId: kept, attributes: { id: 'x' } })]);
    const counts = sampleLogs(request, config({ sampling_percentage: 50, attribute_source: 'record', from_attribute: 'id' }));
    expect(counts.byPolicy[`attribute_hash/${keeps(0, Buffer.from('x'), 50)}`]).toBe(1);
  });

  it('fail_closed drops records without randomness', () => {
    const request = logs([record({ body: 'no trace' })]);
    expect(sampleLogs(request, config({ sampling_percentage: 100 })).kept).toBe(0);
  });

  it('fail_closed false keeps records without randomness', () => {
    const request = logs([record({ body: 'no trace' })]);
    expect(sampleLogs(request, config({ sampling_percentage: 0, fail_closed: false })).kept).toBe(1);
  });

  it('priority attribute raises the percentage and 0 drops', () => {
    const request = logs([
      record({ traceId: kept, attributes: { priority: 100 } }),
      record({ traceId: kept, attributes: { priority: 0 } }),
      record({ traceId: kept }),
    ]);
    const counts = sampleLogs(request, config({ sampling_percentage: 0, sampling_priority: 'priority', fail_closed: false }));
    expect(counts.kept).toBe(1);
    expect(counts.byPolicy['sampling_priority/true']).toBe(1);
    expect(counts.byPolicy['sampling_priority/false']).toBe(1);
  });
});

describe('probabilistic_sampler processor', () => {
  const harness = new ProcessorHarness(probabilisticSamplerFactory.workerModules);
  afterAll(() => harness.close());

  it('passes on only the kept spans, encoded', async () => {
    const next = new CaptureConsumer();
    const processor = harness.create(probabilisticSamplerFactory, { config: config({ sampling_percentage: 50, hash_seed: 1 }), next });
    const random = seededRandom(99);
    const ids = Array.from({ length: 50 }, () => randomTraceId(random));

    await processor.consume(encodedBatch(tracesBatch(traces({ api: ids.map((traceId) => span({ traceId })) }))));

    const expected = ids.filter((traceId) => keeps(1, hex(traceId), 50));
    expect(next.batches).toHaveLength(1);
    expect(next.batches[0].itemCount).toBe(expected.length);
    expect(next.spans().map(traceIdHex).sort()).toEqual([...expected].sort());
    expect(harness.registry.render()).toMatch(new RegExp(`watchpost_sampler_items_total\\{policy="trace_id_hash",processor="probabilistic_sampler",sampled="true",signal="traces"\\} ${expected.length}`));
  });

  it('passes nothing on when every span is dropped', async () => {
    const next = new CaptureConsumer();
    const processor = harness.create(probabilisticSamplerFactory, { config: config({ sampling_percentage: 0 }), next });
    await processor.consume(encodedBatch(tracesBatch(traces({ api: [span({ traceId: '01'.repeat(16) })] }))));
    expect(next.batches).toHaveLength(0);
  });

  it('passes a fully kept batch on unchanged', async () => {
    const next = new CaptureConsumer();
    const processor = harness.create(probabilisticSamplerFactory, { config: config({ sampling_percentage: 100 }), next });
    const batch = encodedBatch(logsBatch(logs([record({ traceId: '02'.repeat(16) })])));
    await processor.consume(batch);
    expect(next.batches[0]).toBe(batch);
    expect(batch.hasOriginalBytes()).toBe(true);
  });
});
