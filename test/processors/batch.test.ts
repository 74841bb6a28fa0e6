import { describe, expect, it } from 'vitest';
import { batchProcessorFactory } from '../../processors/batch/factory.js';
import { Batcher, type FlushTrigger } from '../../processors/batch/batcher.js';
import type { BatchConfig } from '../../processors/batch/config.js';
import { deflateRawSync } from 'node:zlib';
import { DeflatedRequest, InflatedCache, encodeSpanGroups, groupSpansByTrace, splitRequest } from '../../processors/helper/otlp-wire.js';
import { FindingsBatch, OtlpBatch } from '../../core/data/batch.js';
import { countItems, decodeRequest, encodeRequest, type ExportMetricsServiceRequest, type ExportTraceServiceRequest } from '../../core/otlp/codec.js';
import { retryableError, WatchpostError } from '../../core/errors.js';
import { stringAttribute } from '../../core/otlp/attributes.js';
import type { Finding } from '../../core/data/finding.js';
import { CaptureConsumer, encodedBatch, logs, record, span, traces, tracesBatch } from './helpers.js';

function config(overrides: Partial<BatchConfig>): BatchConfig {
  return { ...batchProcessorFactory.createDefaultConfig(), ...overrides };
}

function spansBatch(count: number, service = 'api'): OtlpBatch {
  return encodedBatch(tracesBatch(traces({ [service]: Array.from({ length: count }, (_, index) => span({ traceId: (index + 1).toString(16).padStart(32, '0') })) })));
}

function batcher(settings: BatchConfig, next: CaptureConsumer, signal: 'traces' | 'metrics' | 'logs' | 'findings' = 'traces') {
  const triggers: FlushTrigger[] = [];
  return { batcher: new Batcher(settings, signal, next, { flushed: (trigger) => triggers.push(trigger) }), triggers };
}

/** Services of each span of a decoded traces request, in order. */
function servicesOf(bytes: Uint8Array): string[] {
  const request = decodeRequest('traces', bytes) as ExportTraceServiceRequest;
  return (request.resourceSpans ?? []).flatMap((resource) => (resource.scopeSpans ?? []).flatMap((scope) => (scope.spans ?? []).map(() => stringAttribute(resource.resource?.attributes, 'service.name') ?? '')));
}

describe('batch processor', () => {
  it('joins batches until send_batch_size', async () => {
    const next = new CaptureConsumer();
    const { batcher: subject, triggers } = batcher(config({ send_batch_size: 5, timeout: 60_000 }), next);

    const first = subject.consume(spansBatch(2, 'a'));
    const second = subject.consume(spansBatch(2, 'b'));
    expect(next.batches).toHaveLength(0);
    const third = subject.consume(spansBatch(2, 'c'));
    await Promise.all([first, second, third]);

    expect(next.batches).toHaveLength(1);
    expect(next.batches[0].itemCount).toBe(6);
    expect(servicesOf((next.batches[0] as OtlpBatch).toBytes())).toEqual(['a', 'a', 'b', 'b', 'c', 'c']);
    expect(triggers).toEqual(['size']);
  });

  it('holds the caller until the timeout send', async () => {
    const next = new CaptureConsumer();
    const { batcher: subject, triggers } = batcher(config({ send_batch_size: 1000, timeout: 50 }), next);
    let settled = false;

    const pending = subject.consume(spansBatch(3)).then(() => { settled = true; });
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    expect(next.batches).toHaveLength(0);
    await pending;

    expect(next.items).toBe(3);
    expect(triggers).toEqual(['timeout']);
  });

  it('passes a downstream refusal to every caller', async () => {
    const next = new CaptureConsumer();
    next.failWith = retryableError('WP_ERR_EXPORTER_QUEUE_FULL', 'queue full');
    const { batcher: subject } = batcher(config({ send_batch_size: 4, timeout: 60_000 }), next);

    const results = await Promise.allSettled([subject.consume(spansBatch(2)), subject.consume(spansBatch(2))]);

    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason as WatchpostError;
      expect(reason.code).toBe('WP_ERR_EXPORTER_QUEUE_FULL');
      expect(reason.retryable).toBe(true);
    }
  });

  it('splits at send_batch_max_size keeping resources', async () => {
    const next = new CaptureConsumer();
    const { batcher: subject } = batcher(config({ send_batch_size: 4, send_batch_max_size: 4, timeout: 0 }), next);
    const request = traces({
      a: Array.from({ length: 5 }, (_, index) => span({ traceId: `${index}`.padStart(32, 'a') })),
      b: Array.from({ length: 5 }, (_, index) => span({ traceId: `${index}`.padStart(32, 'b') })),
    });

    await subject.consume(encodedBatch(tracesBatch(request)));

    expect(next.batches.map((batch) => batch.itemCount)).toEqual([4, 4, 2]);
    expect(next.batches.map((batch) => servicesOf((batch as OtlpBatch).toBytes()))).toEqual([['a', 'a', 'a', 'a'], ['a', 'b', 'b', 'b'], ['b', 'b']]);
    for (const batch of next.batches) expect(countItems('traces', (batch as OtlpBatch).toMessage())).toBe(batch.itemCount);
  });

  it('sends before passing send_batch_max_bytes', async () => {
    const next = new CaptureConsumer();
    const one = spansBatch(1);
    const size = one.toBytes().length;
    const { batcher: subject, triggers } = batcher(config({ send_batch_size: 100, send_batch_max_bytes: size * 2 + 1, timeout: 60_000 }), next);

    const sends = [subject.consume(spansBatch(1)), subject.consume(spansBatch(1)), subject.consume(spansBatch(1))];
    await Promise.all(sends.slice(0, 2));
    await subject.shutdown();

    expect(next.batches.map((batch) => batch.itemCount)).toEqual([2, 1]);
    expect(triggers).toEqual(['bytes', 'shutdown']);
  });

  it('joins findings', async () => {
    const next = new CaptureConsumer();
    const { batcher: subject } = batcher(config({ send_batch_size: 3, send_batch_max_size: 3, timeout: 60_000 }), next, 'findings');
    const findings = (count: number) => new FindingsBatch(Array.from({ length: count }, (_, index) => ({ id: `f${index}` }) as Finding), { receiver: 'detection' });

    const sends = Promise.all([subject.consume(findings(2)), subject.consume(findings(2))]);
    await subject.shutdown();
    await sends;

    expect(next.batches.map((batch) => batch.itemCount)).toEqual([3, 1]);
    expect(next.batches[0].signal).toBe('findings');
  });

  it('sends what it holds at shutdown and then rejects', async () => {
    const next = new CaptureConsumer();
    const { batcher: subject } = batcher(config({ send_batch_size: 100, timeout: 60_000 }), next);
    const pending = subject.consume(spansBatch(2));

    await subject.shutdown();
    await pending;

    expect(next.items).toBe(2);
    await expect(subject.consume(spansBatch(1))).rejects.toMatchObject({ code: 'WP_ERR_SHUTTING_DOWN', retryable: true });
  });

  it('rejects send_batch_max_size below send_batch_size', () => {
    const problems: string[] = [];
    batchProcessorFactory.validate?.(config({ send_batch_size: 100, send_batch_max_size: 10 }), (message) => problems.push(message));
    expect(problems).toEqual(['send_batch_max_size (10) must be 0 or at least send_batch_size (100)']);
  });
});

describe('OTLP wire split', () => {
  it('splits logs by record', () => {
    const bytes = encodeRequest('logs', logs(Array.from({ length: 7 }, (_, index) => record({ body: `line ${index}` }))));
    const chunks = splitRequest('logs', bytes, 3);
    expect(chunks.map((chunk) => chunk.items)).toEqual([3, 3, 1]);
    const bodies = chunks.flatMap((chunk) => (decodeRequest('logs', chunk.bytes) as { resourceLogs: { scopeLogs: { logRecords: { body: { stringValue: string } }[] }[] }[] }).resourceLogs[0].scopeLogs[0].logRecords.map((entry) => entry.body.stringValue));
    expect(bodies).toEqual(['line 0', 'line 1', 'line 2', 'line 3', 'line 4', 'line 5', 'line 6']);
  });

  it('splits metrics between metrics', () => {
    const gauge = (name: string, points: number) => ({ name, gauge: { dataPoints: Array.from({ length: points }, (_, index) => ({ asDouble: index })) } });
    const request: ExportMetricsServiceRequest = { resourceMetrics: [{ resource: { attributes: [] }, scopeMetrics: [{ scope: { name: 's' }, metrics: [gauge('a', 2), gauge('b', 3), gauge('c', 1)] }] }] };
    const chunks = splitRequest('metrics', encodeRequest('metrics', request), 3);
    expect(chunks.map((chunk) => chunk.items)).toEqual([2, 3, 1]);
    for (const chunk of chunks) expect(countItems('metrics', decodeRequest('metrics', chunk.bytes))).toBe(chunk.items);
  });

  it('groups interleaved spans by trace', () => {
    const a = 'aa'.repeat(16);
    const b = 'bb'.repeat(16);
    const bytes = encodeRequest('traces', traces({ x: [span({ traceId: a, name: 'a1' }), span({ traceId: a, name: 'a2' }), span({ traceId: b, name: 'b1' }), span({ traceId: a, name: 'a3' })], y: [span({ traceId: b, name: 'b2' })] }));

    const groups = groupSpansByTrace(bytes);

    expect([...groups.keys()]).toEqual([a, b]);
    expect(groups.get(a)?.map((group) => [group.count, group.spans.length])).toEqual([[3, 4]]);
    const names = (trace: string) => (decodeRequest('traces', encodeSpanGroups(groups.get(trace) ?? [])) as ExportTraceServiceRequest).resourceSpans?.map((resource) => [stringAttribute(resource.resource?.attributes, 'service.name'), resource.scopeSpans?.[0].spans?.map((entry) => entry.name)]);
    expect(names(a)).toEqual([['x', ['a1', 'a2', 'a3']]]);
    expect(names(b)).toEqual([['x', ['b1']], ['y', ['b2']]]);
  });

  it('skips unknown group fields, nested ones too', () => {
    const a = 'aa'.repeat(16);
    const bytes = encodeRequest('traces', traces({ x: [span({ traceId: a, name: 'a1' })] }));
    // Field 99 as a group holding a varint and group 7, then field 98 as a varint.
    const unknown = [0x9b, 0x06, 0x08, 0x05, 0x3b, 0x10, 0x01, 0x3c, 0x9c, 0x06, 0x90, 0x06, 0x01];
    const withGroup = Buffer.concat([Buffer.from(unknown), Buffer.from(bytes)]);

    const groups = groupSpansByTrace(withGroup);

    expect([...groups.keys()]).toEqual([a]);
    expect(Buffer.from(encodeSpanGroups(groups.get(a) ?? [])).equals(Buffer.from(encodeSpanGroups(groupSpansByTrace(bytes).get(a) ?? [])))).toBe(true);
    expect(splitRequest('traces', withGroup, 10).map((chunk) => chunk.items)).toEqual([1]);
    expect(() => groupSpansByTrace(Buffer.from([0x9b, 0x06, 0x08, 0x05]))).toThrow('group 99 has no end tag');
  });

  it('keeps recently read requests inflated within its budget', () => {
    const cache = new InflatedCache(2500);
    const requests = [1, 2, 3].map((seed) => {
      const bytes = encodeRequest('traces', traces({ x: [span({ traceId: `${seed}`.repeat(32), name: `s${seed}` })] }));
      return { bytes, held: new DeflatedRequest(deflateRawSync(bytes), 1000, cache) };
    });

    for (const { held } of requests) expect(held.bytes.length).toBeGreaterThan(0);
    expect(requests.map(({ held }) => held.isInflated)).toEqual([false, true, true]);
    expect(Buffer.from(requests[0].held.bytes).equals(Buffer.from(requests[0].bytes))).toBe(true);
    expect(requests.map(({ held }) => held.isInflated)).toEqual([true, false, true]);
    cache.clear();
    expect(requests.map(({ held }) => held.isInflated)).toEqual([false, false, false]);
  });

  it('keeps the last request inflated even past the budget', () => {
    const bytes = encodeRequest('traces', traces({ x: [span({ traceId: 'ab'.repeat(16) })] }));
    const cache = new InflatedCache(1);
    const held = new DeflatedRequest(deflateRawSync(bytes), bytes.length, cache);

    expect(held.bytes.length).toBe(bytes.length);
    expect(held.isInflated).toBe(true);
  });

  it('encodes groups held deflated as it encodes them from the bytes', () => {
    const a = 'aa'.repeat(16);
    const b = 'bb'.repeat(16);
    const bytes = encodeRequest('traces', traces({ x: [span({ traceId: a, name: 'a1' }), span({ traceId: b, name: 'b1' }), span({ traceId: a, name: 'a2' })], y: [span({ traceId: b, name: 'b2' })] }));
    const groups = groupSpansByTrace(bytes);
    const plain = Buffer.from(encodeSpanGroups([...groups.values()].flat()));

    const held = new DeflatedRequest(deflateRawSync(bytes), bytes.length);
    for (const group of [...groups.values()].flat()) group.source = held;

    expect(held.heldBytes).toBeLessThan(bytes.length);
    expect(Buffer.from(encodeSpanGroups([...groups.values()].flat())).equals(plain)).toBe(true);
    held.close();
    expect(Buffer.from(encodeSpanGroups(groups.get(b) ?? [])).equals(Buffer.from(encodeSpanGroups(groupSpansByTrace(bytes).get(b) ?? [])))).toBe(true);
  });

  it('keeps a request within the limits whole', () => {
    const bytes = spansBatch(3).toBytes();
    const chunks = splitRequest('traces', bytes, 10);
    expect(chunks).toHaveLength(1);
    expect(Buffer.from(chunks[0].bytes).equals(Buffer.from(bytes))).toBe(true);
  });
});
