import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { tailSamplingFactory } from '../../processors/sampling/tail_sampling/factory.js';
import { TraceBuffer, type Decision } from '../../processors/sampling/tail_sampling/buffer.js';
import { compilePolicies, probabilisticThreshold } from '../../processors/sampling/tail_sampling/policies.js';
import { collectPredicates } from '../../processors/sampling/tail_sampling/predicates.js';
import { TraceGrouper } from '../../processors/sampling/tail_sampling/worker.js';
import type { PolicyConfig, TailSamplingConfig } from '../../processors/sampling/tail_sampling/config.js';
import type { Finding } from '../../core/data/finding.js';
import type { ExportTraceServiceRequest, ISpan } from '../../core/otlp/codec.js';
import { decodeRequest, encodeRequest } from '../../core/otlp/codec.js';
import { DeflatedRequest, encodeSpanGroups, groupSpansByTrace } from '../../processors/helper/otlp-wire.js';
import { OtlpBatch } from '../../core/data/batch.js';
import { loadConfigText, ConfigError } from '../../core/config/load.js';
import { builtinRegistry } from '../../core/cli/builtins.js';
import { waitFor } from '../helpers/wait.js';
import { CaptureConsumer, encodedBatch, ProcessorHarness, randomTraceId, seededRandom, span, testHost, traceIdHex, traces, tracesBatch } from './helpers.js';

const T0 = Date.UTC(2026, 11, 4, 10, 0, 0);

function config(policies: PolicyConfig[], overrides: Partial<TailSamplingConfig> = {}): TailSamplingConfig {
  return { ...tailSamplingFactory.createDefaultConfig(), decision_wait: 1000, ...overrides, policies };
}

/** Runs the buffer as the processor does, with a clock the test moves. */
class Scenario {
  readonly buffer: TraceBuffer;
  readonly decisions: Decision[] = [];
  readonly late: { sampled: boolean; spans: number }[] = [];
  readonly security;
  private readonly grouper: TraceGrouper;
  now = T0;

  constructor(readonly settings: TailSamplingConfig) {
    const predicates = collectPredicates(settings);
    const compiled = compilePolicies(settings, predicates);
    this.security = compiled.security;
    this.grouper = new TraceGrouper(predicates.options);
    this.buffer = new TraceBuffer(settings, compiled.policies, {
      decided: (decision) => this.decisions.push(decision),
      late: (sampled, spans) => this.late.push({ sampled, spans }),
    });
  }

  /** Adds spans; returns the trace ids released at once (late or early). */
  add(spans: ISpan[], resource: Record<string, ISpan[]> | undefined = undefined): string[] {
    const request = resource ? traces(resource) : traces({ api: spans });
    const { late, early } = this.buffer.add(this.grouper.group(request), groupSpansByTrace(encodeRequest('traces', request)), this.now);
    return spanTraceIds(encodeSpanGroups([...late.groups, ...early.groups]));
  }

  /** Moves the clock past decision_wait; returns the sampled trace ids. */
  decide(): string[] {
    this.now += this.settings.decision_wait;
    return [...new Set(spanTraceIds(encodeSpanGroups(this.buffer.releaseDue(this.now).groups)))];
  }

  findings(findings: Finding[]): void {
    for (const state of this.security) this.buffer.promote(state.observe(findings, this.now));
  }
}

function spanTraceIds(bytes: Uint8Array): string[] {
  const request = decodeRequest('traces', bytes) as ExportTraceServiceRequest;
  return (request.resourceSpans ?? []).flatMap((resource) => (resource.scopeSpans ?? []).flatMap((scope) => (scope.spans ?? []).map(traceIdHex)));
}

const A = 'a1'.repeat(16);
const B = 'b2'.repeat(16);
const C = 'c3'.repeat(16);

function finding(overrides: Partial<Finding>): Finding {
  return {
    id: 'f1', fingerprint: 'fp', time: new Date(T0).toISOString(), status: 'new',
    rule: { id: 'credential-stuffing', name: 'Credential stuffing' }, severity: 'high', confidence: 'high',
    actor: {}, target: {}, key: {}, count: 1, first_seen: new Date(T0).toISOString(), last_seen: new Date(T0).toISOString(),
    evidence: [], source: 'detection', ...overrides,
  };
}

describe('tail_sampling policies', () => {
  it('always_sample keeps every trace', () => {
    const scenario = new Scenario(config([{ name: 'all', type: 'always_sample' }]));
    scenario.add([span({ traceId: A }), span({ traceId: B })]);
    expect(scenario.decide().sort()).toEqual([A, B]);
  });

  it('latency keeps traces from first start to last end', () => {
    const scenario = new Scenario(config([{ name: 'slow', type: 'latency', latency: { threshold_ms: 500 } }]));
    scenario.add([span({ traceId: A, startMs: T0, durationMs: 100 }), span({ traceId: A, startMs: T0 + 450, durationMs: 100 })]);
    scenario.add([span({ traceId: B, startMs: T0, durationMs: 499 })]);
    expect(scenario.decide()).toEqual([A]);
  });

  it('latency upper threshold bounds the range', () => {
    const scenario = new Scenario(config([{ name: 'band', type: 'latency', latency: { threshold_ms: 100, upper_threshold_ms: 200 } }]));
    scenario.add([span({ traceId: A, durationMs: 150 }), span({ traceId: B, durationMs: 250 }), span({ traceId: C, durationMs: 50 })]);
    expect(scenario.decide()).toEqual([A]);
  });

  it('status_code keeps traces with an error span', () => {
    const scenario = new Scenario(config([{ name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } }]));
    scenario.add([span({ traceId: A, status: 1 }), span({ traceId: A, status: 2 }), span({ traceId: B, status: 1 }), span({ traceId: C })]);
    expect(scenario.decide()).toEqual([A]);
  });

  it('string_attribute matches span and resource values', () => {
    const scenario = new Scenario(config([{ name: 'checkout', type: 'string_attribute', string_attribute: { key: 'service.name', values: ['checkout'] } }]));
    scenario.add([], { checkout: [span({ traceId: A })], search: [span({ traceId: B })] });
    scenario.add([span({ traceId: C, attributes: { 'service.name': 'checkout' } })]);
    expect(scenario.decide().sort()).toEqual([A, C]);
  });

  it('string_attribute regex finds a match anywhere', () => {
    const scenario = new Scenario(config([{ name: 'admin', type: 'string_attribute', string_attribute: { key: 'http.route', values: ['^/admin/', 'debug$'], enabled_regex_matching: true } }]));
    scenario.add([span({ traceId: A, attributes: { 'http.route': '/admin/users' } }), span({ traceId: B, attributes: { 'http.route': '/v1/debug' } }), span({ traceId: C, attributes: { 'http.route': '/v1/admin/' } })]);
    expect(scenario.decide().sort()).toEqual([A, B]);
  });

  it('string_attribute regex stays fast on hostile input', () => {
    const scenario = new Scenario(config([{ name: 'nested', type: 'string_attribute', string_attribute: { key: 'q', values: ['^(a+)+$'], enabled_regex_matching: true } }]));
    scenario.add([span({ traceId: A, attributes: { q: `${'a'.repeat(5000)}!` } })]);
    expect(scenario.decide()).toEqual([]);
  });

  it('string_attribute invert_match keeps traces without the value', () => {
    const scenario = new Scenario(config([{ name: 'not-health', type: 'string_attribute', string_attribute: { key: 'url.path', values: ['/healthz'], invert_match: true } }]));
    scenario.add([span({ traceId: A, attributes: { 'url.path': '/healthz' } }), span({ traceId: B, attributes: { 'url.path': '/orders' } })]);
    expect(scenario.decide()).toEqual([B]);
  });

  it('numeric_attribute checks inclusive bounds', () => {
    const scenario = new Scenario(config([{ name: 'big', type: 'numeric_attribute', numeric_attribute: { key: 'http.response.body.size', min_value: 1000, max_value: 5000 } }]));
    scenario.add([
      span({ traceId: A, attributes: { 'http.response.body.size': 1000 } }),
      span({ traceId: B, attributes: { 'http.response.body.size': 5001 } }),
      span({ traceId: C, attributes: { 'http.response.body.size': '3000' } }),
    ]);
    expect(scenario.decide()).toEqual([A]);
  });

  it('numeric_attribute with only a minimum is open above', () => {
    const scenario = new Scenario(config([{ name: 'retries', type: 'numeric_attribute', numeric_attribute: { key: 'retries', min_value: 3 } }]));
    scenario.add([span({ traceId: A, attributes: { retries: 1e9 } }), span({ traceId: B, attributes: { retries: 2.5 } })]);
    expect(scenario.decide()).toEqual([A]);
  });

  it('probabilistic matches a 64-bit FNV-1a reference', () => {
    const salt = 'my-salt';
    const percentage = 37;
    const threshold = probabilisticThreshold(percentage / 100);
    const scenario = new Scenario(config([{ name: 'some', type: 'probabilistic', probabilistic: { sampling_percentage: percentage, hash_salt: salt } }]));
    const random = seededRandom(4);
    const ids = Array.from({ length: 400 }, () => randomTraceId(random));
    scenario.add(ids.map((traceId) => span({ traceId })));

    const reference = (traceId: string) => {
      let hash = 0xcbf29ce484222325n;
      for (const byte of [...Buffer.from(salt), ...Buffer.from(traceId, 'hex')]) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) % (1n << 64n);
      return hash <= threshold;
    };
    const expected = ids.filter(reference);
    expect(scenario.decide().sort()).toEqual(expected.sort());
    expect(expected.length).toBeGreaterThan(110);
    expect(expected.length).toBeLessThan(190);
  });

  it('probabilistic threshold follows Go big.Float rounding', () => {
    expect(probabilisticThreshold(1)).toBe((1n << 64n) - 1n);
    expect(probabilisticThreshold(0.5)).toBe((1n << 63n) - 1n);
    expect(probabilisticThreshold(0)).toBe(0n);
    const tenth = probabilisticThreshold(0.1);
    const approximate = (((1n << 64n) - 1n) * 1_000_000n) / 10_000_000n;
    expect(tenth > approximate - 4096n).toBe(true);
    expect(tenth < approximate + 4096n).toBe(true);
  });

  it('rate_limiting takes whole traces until the second is full', () => {
    const scenario = new Scenario(config([{ name: 'ten', type: 'rate_limiting', rate_limiting: { spans_per_second: 10 } }]));
    for (const traceId of [A, B, C]) scenario.add(Array.from({ length: 4 }, () => span({ traceId })));
    const kept = scenario.decide();
    expect(kept).toEqual([A, B]);
    scenario.add(Array.from({ length: 4 }, () => span({ traceId: 'd4'.repeat(16) })));
    expect(scenario.decide()).toEqual(['d4'.repeat(16)]);
  });

  it('and needs every sub-policy', () => {
    const scenario = new Scenario(config([{ name: 'slow-errors', type: 'and', and: { and_sub_policy: [
      { name: 'slow', type: 'latency', latency: { threshold_ms: 100 } },
      { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
    ] } }]));
    scenario.add([span({ traceId: A, durationMs: 200, status: 2 }), span({ traceId: B, durationMs: 200 }), span({ traceId: C, durationMs: 5, status: 2 })]);
    expect(scenario.decide()).toEqual([A]);
  });

  it('composite shares its rate by allocation', () => {
    const scenario = new Scenario(config([{ name: 'mix', type: 'composite', composite: {
      max_total_spans_per_second: 4,
      policy_order: ['errors', 'rest'],
      composite_sub_policy: [
        { name: 'rest', type: 'always_sample' },
        { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
      ],
      rate_allocation: [{ policy: 'errors', percent: 50 }, { policy: 'rest', percent: 50 }],
    } }]));
    const ids = ['01', '02', '03', '04', '05', '06'].map((prefix) => prefix.repeat(16));
    scenario.add([
      span({ traceId: ids[0], status: 2 }), span({ traceId: ids[1], status: 2 }), span({ traceId: ids[2], status: 2 }),
      span({ traceId: ids[3] }), span({ traceId: ids[4] }), span({ traceId: ids[5] }),
    ]);
    expect(scenario.decide().sort()).toEqual([ids[0], ids[1], ids[2], ids[3]].sort());
  });

  it('combined policies sample when any one does', () => {
    const scenario = new Scenario(config([
      { name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } },
      { name: 'slow', type: 'latency', latency: { threshold_ms: 1000 } },
      { name: 'none', type: 'probabilistic', probabilistic: { sampling_percentage: 0 } },
    ]));
    scenario.add([span({ traceId: A, status: 2 }), span({ traceId: B, durationMs: 1500 }), span({ traceId: C })]);
    expect(scenario.decide().sort()).toEqual([A, B]);
    expect(scenario.decisions.map((decision) => decision.policy)).toEqual(['errors', 'slow', undefined]);
  });
});

describe('tail_sampling security policy', () => {
  const policies: PolicyConfig[] = [
    { name: 'attacks', type: 'security', security: { retention: 60_000 } },
    { name: 'base', type: 'probabilistic', probabilistic: { sampling_percentage: 0 } },
  ];

  it('keeps a marked attack trace at 0% base', () => {
    const scenario = new Scenario(config(policies));
    scenario.add([
      span({ traceId: A, attributes: { 'watchpost.detection.rule_ids': ['sqli'], 'http.request.method': 'GET', 'url.path': '/p' } }),
      span({ traceId: A, kind: 3 }),
      span({ traceId: B, attributes: { 'http.request.method': 'GET', 'url.path': '/p' } }),
    ]);
    expect(scenario.decide()).toEqual([A]);
  });

  it('keeps the actor traces within retention', () => {
    const scenario = new Scenario(config(policies));
    const from = (traceId: string, address: string) => span({ traceId, attributes: { 'http.request.method': 'POST', 'url.path': '/login', 'client.address': address } });
    scenario.add([from(A, '203.0.113.5'), from(B, '198.51.100.1')]);
    scenario.findings([finding({ actor: { address: '203.0.113.5' } })]);
    expect(scenario.decide()).toEqual([A]);

    scenario.now += 30_000;
    scenario.add([from(C, '203.0.113.5')]);
    expect(scenario.decide()).toEqual([C]);

    scenario.now += 60_000;
    scenario.add([from('d4'.repeat(16), '203.0.113.5')]);
    expect(scenario.decide()).toEqual([]);
  });

  it('keeps the actor lists of traces apart when they share a client', () => {
    const scenario = new Scenario(config(policies));
    const request = (traceId: string, extra: Record<string, string>) => span({ traceId, attributes: { 'http.request.method': 'GET', 'url.path': '/orders', 'client.address': '203.0.113.5', ...extra } });
    scenario.add([request(A, {}), request(B, {})]);
    scenario.add([request(B, { 'user.id': 'mallory' })]);
    scenario.findings([finding({ actor: { identity: 'mallory' } })]);
    expect(scenario.decide()).toEqual([B]);
  });

  it('keeps traces of an identity with a finding', () => {
    const scenario = new Scenario(config(policies));
    scenario.findings([finding({ actor: { identity: 'mallory' } })]);
    scenario.add([span({ traceId: A, attributes: { 'http.request.method': 'GET', 'url.path': '/orders/7', 'user.id': 'mallory' } })]);
    expect(scenario.decide()).toEqual([A]);
  });

  it('keeps a trace cited as evidence', () => {
    const scenario = new Scenario(config(policies));
    scenario.add([span({ traceId: A })]);
    scenario.findings([finding({ evidence: [{ time: new Date(T0).toISOString(), trace_id: A, summary: 'GET /' }] })]);
    expect(scenario.decide()).toEqual([A]);
  });

  it('late spans of a cited trace follow the new decision', () => {
    const scenario = new Scenario(config(policies));
    scenario.add([span({ traceId: A })]);
    expect(scenario.decide()).toEqual([]);
    scenario.findings([finding({ evidence: [{ time: new Date(T0).toISOString(), trace_id: A, summary: 'GET /' }] })]);
    expect(scenario.add([span({ traceId: A })])).toEqual([A]);
  });
});

describe('tail_sampling buffer', () => {
  it('holds spans until decision_wait ends', () => {
    const scenario = new Scenario(config([{ name: 'all', type: 'always_sample' }], { decision_wait: 5000 }));
    scenario.add([span({ traceId: A })]);
    scenario.now += 4999;
    expect(scenario.buffer.releaseDue(scenario.now).spans).toBe(0);
    scenario.now += 1;
    expect(scenario.buffer.releaseDue(scenario.now).spans).toBe(1);
  });

  it('joins spans of one trace across batches', () => {
    const scenario = new Scenario(config([{ name: 'all', type: 'always_sample' }]));
    scenario.add([span({ traceId: A })]);
    scenario.add([span({ traceId: A }), span({ traceId: A })]);
    const released = scenario.buffer.releaseDue(scenario.now + 1000);
    expect(released.spans).toBe(3);
    expect(scenario.decisions).toHaveLength(1);
  });

  it('decides the oldest trace early past num_traces', () => {
    const scenario = new Scenario(config([{ name: 'all', type: 'always_sample' }], { num_traces: 2 }));
    scenario.add([span({ traceId: A })]);
    scenario.add([span({ traceId: B })]);
    const early = scenario.add([span({ traceId: C })]);
    expect(early).toEqual([A]);
    expect(scenario.decisions[0].early).toBe('num_traces');
    expect(scenario.buffer.size).toBe(2);
  });

  it('decides a trace early at max_spans_per_trace', () => {
    const scenario = new Scenario(config([{ name: 'all', type: 'always_sample' }], { max_spans_per_trace: 3 }));
    expect(scenario.add([span({ traceId: A }), span({ traceId: A })])).toEqual([]);
    expect(scenario.add([span({ traceId: A })])).toEqual([A, A, A]);
    expect(scenario.decisions[0].early).toBe('max_spans_per_trace');
  });

  it('late spans follow a sampled decision', () => {
    const scenario = new Scenario(config([{ name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } }]));
    scenario.add([span({ traceId: A, status: 2 }), span({ traceId: B })]);
    scenario.decide();
    expect(scenario.add([span({ traceId: A }), span({ traceId: B, status: 2 })])).toEqual([A]);
    expect(scenario.late).toEqual([{ sampled: true, spans: 1 }, { sampled: false, spans: 1 }]);
  });

  it('forgets decisions past the cache size', () => {
    const scenario = new Scenario(config([{ name: 'all', type: 'always_sample' }], { decision_cache: { sampled_cache_size: 1, non_sampled_cache_size: 1 } }));
    scenario.add([span({ traceId: A }), span({ traceId: B })]);
    scenario.decide();
    expect(scenario.add([span({ traceId: A })])).toEqual([]);
    expect(scenario.buffer.size).toBe(1);
  });
});

describe('tail_sampling processor', () => {
  const harness = new ProcessorHarness(tailSamplingFactory.workerModules);
  afterAll(() => harness.close());

  it('passes on kept traces after decision_wait', async () => {
    const next = new CaptureConsumer();
    const settings = config([{ name: 'errors', type: 'status_code', status_code: { status_codes: ['ERROR'] } }], { decision_wait: 100 });
    const processor = harness.create(tailSamplingFactory, { config: settings, next });
    await processor.start(testHost());

    await processor.consume(encodedBatch(tracesBatch(traces({ api: [span({ traceId: A, status: 2 }), span({ traceId: B })] }))));
    expect(next.batches).toHaveLength(0);

    await waitFor(() => next.items === 1, 5000, 'the sampled trace');
    expect(next.spans().map(traceIdHex)).toEqual([A]);
    await processor.shutdown();
    expect(harness.registry.render()).toMatch(/watchpost_tail_sampling_traces_total\{decision="not_sampled",policy="",processor="tail_sampling"\} 1/);
  });

  it('passes on spans it held deflated unchanged', async () => {
    const next = new CaptureConsumer();
    const settings = config([{ name: 'all', type: 'always_sample' }], { decision_wait: 60_000 });
    const processor = harness.create(tailSamplingFactory, { config: settings, next });
    await processor.start(testHost());
    const query = 'status=open&sort=created&fields=id,status,total'.repeat(20);
    const request = traces({ api: [span({ traceId: A, name: 'first', attributes: { 'url.path': '/v1/orders', 'url.query': query } }), span({ traceId: B, name: 'second', attributes: { 'url.query': query } }), span({ traceId: A, name: 'third' })] });
    const inflated = vi.spyOn(DeflatedRequest.prototype, 'bytes', 'get');

    await processor.consume(encodedBatch(tracesBatch(request)));
    await processor.shutdown();

    expect(inflated).toHaveBeenCalled();
    inflated.mockRestore();
    const names = next.spans().map((entry) => `${traceIdHex(entry)} ${entry.name}`).sort();
    expect(names).toEqual([`${A} first`, `${A} third`, `${B} second`]);
    expect(next.spans().find((entry) => entry.name === 'first')?.attributes).toEqual(request.resourceSpans?.[0].scopeSpans?.[0].spans?.[0].attributes);
  });

  it('keeps batches plain when compression is off or poor', async () => {
    const inflated = vi.spyOn(DeflatedRequest.prototype, 'bytes', 'get');
    const cases = [
      { compress_held_batches: false, payload: 'x'.repeat(4096) },
      { compress_held_batches: true, payload: randomBytes(3072).toString('base64') },
    ];
    for (const [index, { compress_held_batches, payload }] of cases.entries()) {
      const next = new CaptureConsumer();
      const settings = config([{ name: 'all', type: 'always_sample' }], { decision_wait: 60_000, compress_held_batches });
      const processor = harness.create(tailSamplingFactory, { id: `tail_sampling/plain${index}`, config: settings, next });
      await processor.start(testHost());

      await processor.consume(encodedBatch(tracesBatch(traces({ api: [span({ traceId: A, attributes: { 'app.payload': payload } })] }))));
      await processor.shutdown();

      expect(next.spans().map((entry) => entry.attributes?.find((attribute) => attribute.key === 'app.payload')?.value?.stringValue)).toEqual([payload]);
    }
    expect(inflated).not.toHaveBeenCalled();
    inflated.mockRestore();
  });

  it('keeps an attack and the actor later traces through the findings bus', async () => {
    const next = new CaptureConsumer();
    const settings = config([{ name: 'attacks', type: 'security' }, { name: 'base', type: 'probabilistic', probabilistic: { sampling_percentage: 0 } }], { decision_wait: 60_000 });
    const processor = harness.create(tailSamplingFactory, { config: settings, next });
    const host = testHost();
    await processor.start(host);
    const request = (traceId: string, address: string, extra = {}) => encodedBatch(tracesBatch(traces({ api: [span({ traceId, attributes: { 'http.request.method': 'GET', 'url.path': '/search', 'client.address': address, ...extra } })] })));

    await processor.consume(request(A, '203.0.113.9', { 'watchpost.detection.rule_ids': ['sqli'] }));
    host.publish([finding({ actor: { address: '203.0.113.9' } })]);
    await processor.consume(request(B, '203.0.113.9'));
    await processor.consume(request(C, '198.51.100.20'));
    await processor.shutdown();

    expect(next.spans().map(traceIdHex).sort()).toEqual([A, B]);
  });

  it('uses the ingest stage result when present', async () => {
    const settings = config([{ name: 'all', type: 'always_sample' }], { decision_wait: 60_000 });
    const stage = tailSamplingFactory.workerStage?.('tail_sampling', settings);
    const pool = new ProcessorHarness(tailSamplingFactory.workerModules, stage ? [stage] : []);
    const next = new CaptureConsumer();
    const processor = pool.create(tailSamplingFactory, { config: settings, next });
    await processor.start(testHost());
    const bytes = tracesBatch(traces({ api: [span({ traceId: A }), span({ traceId: B })] })).toBytes();
    const ingested = await pool.pool.ingest({ signal: 'traces', payload: { kind: 'otlp_protobuf', bytes }, stages: ['tail_sampling'] });
    const batch = OtlpBatch.fromBytes('traces', bytes, ingested.itemCount, { receiver: 'otlp' });
    batch.analysis.set('tail_sampling', ingested.stages.tail_sampling);

    await processor.consume(batch);
    await processor.shutdown();
    await pool.close();

    expect(next.spans().map(traceIdHex).sort()).toEqual([A, B]);
  });

  it('counts spans the next consumer refuses', async () => {
    const next = new CaptureConsumer();
    next.failWith = new Error('queue full');
    const processor = harness.create(tailSamplingFactory, { id: 'tail_sampling/refused', config: config([{ name: 'all', type: 'always_sample' }]), next });
    await processor.start(testHost());
    await processor.consume(encodedBatch(tracesBatch(traces({ api: [span({ traceId: A })] }))));
    await processor.shutdown();
    expect(harness.metrics.processorDropped.get({ processor: 'tail_sampling/refused', signal: 'traces', reason: 'downstream_refused' })).toBe(1);
  });
});

describe('tail_sampling config', () => {
  const load = (processor: string) => loadConfigText(`receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }
processors:
  tail_sampling:
${processor}
exporters:
  debug: {}
service:
  pipelines:
    traces: { receivers: [otlp], processors: [tail_sampling], exporters: [debug] }
`, 'tail.yaml', builtinRegistry(), {});

  function issues(processor: string): string[] {
    try {
      load(processor);
    } catch (error) {
      if (error instanceof ConfigError) return error.issues.filter((issue) => issue.path.startsWith('processors.')).map((issue) => `${issue.path}:${issue.line}: ${issue.message}`);
      throw error;
    }
    return [];
  }

  it('accepts a Collector-style policy list', () => {
    const loaded = load(`    decision_wait: 10s
    policies:
      - { name: attacks, type: security, security: { retention: 30m } }
      - { name: rest, type: probabilistic, probabilistic: { sampling_percentage: 10 } }`);
    const settings = loaded.processors.get('tail_sampling')?.config as TailSamplingConfig;
    expect(settings.decision_wait).toBe(10_000);
    expect(settings.policies[0].security?.retention).toBe(1_800_000);
  });

  it('rejects a policy without its section', () => {
    expect(issues(`    policies:
      - { name: slow, type: latency }`)).toEqual(['processors.tail_sampling.policies:6: policies[0] (slow): a policy of type latency needs a "latency" section']);
  });

  it('rejects an unknown policy type', () => {
    const found = issues(`    policies:
      - { name: x, type: ottl_condition }`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^processors\.tail_sampling\.policies\[0\]\.type:6: must be one of "always_sample"/);
  });

  it('rejects an invalid RE2 pattern', () => {
    const found = issues(`    policies:
      - { name: r, type: string_attribute, string_attribute: { key: k, values: ['(a'], enabled_regex_matching: true } }`);
    expect(found).toHaveLength(1);
    expect(found[0]).toContain('invalid RE2 regular expression "(a"');
  });

  it('rejects duplicate policy names', () => {
    const found = issues(`    policies:
      - { name: same, type: always_sample }
      - { name: same, type: always_sample }`);
    expect(found).toEqual(['processors.tail_sampling.policies:6: policies[1] (same): policy name "same" is used twice; names must be unique']);
  });

  it('requires policies', () => {
    expect(issues('    decision_wait: 5s')).toEqual(['processors.tail_sampling:5: missing required key "policies"']);
  });
});
