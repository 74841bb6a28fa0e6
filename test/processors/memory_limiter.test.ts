import { describe, expect, it } from 'vitest';
import { memoryLimiterFactory } from '../../processors/memory_limiter/factory.js';
import { MemoryLimiter } from '../../processors/memory_limiter/limiter.js';
import { availableMemory, forcedGc, limitsFor } from '../../processors/memory_limiter/memory.js';
import type { MemoryLimiterConfig } from '../../processors/memory_limiter/config.js';
import { Admission } from '../../core/admission.js';
import { silentLogger } from '../../core/logger.js';
import { WatchpostError } from '../../core/errors.js';
import { CaptureConsumer, encodedBatch, ProcessorHarness, span, traces, tracesBatch } from './helpers.js';

const MIB = 1024 * 1024;

function config(overrides: Partial<MemoryLimiterConfig>): MemoryLimiterConfig {
  return { ...memoryLimiterFactory.createDefaultConfig(), ...overrides };
}

/** Creates a limiter whose memory readings and clock the test sets. */
function scenario(limitMib = 100, spikeMib = 20) {
  const state = { rss: 10 * MIB, live: 10 * MIB, afterGc: undefined as number | undefined, now: 0, collections: 0 };
  const admission = new Admission();
  const limiter = new MemoryLimiter('memory_limiter', limitsFor(config({ limit_mib: limitMib, spike_limit_mib: spikeMib })), admission, 2, silentLogger(), {
    measure: () => state.rss,
    live: () => state.live,
    now: () => state.now,
    collect: () => {
      state.collections++;
      if (state.afterGc !== undefined) state.rss = state.afterGc;
    },
  });
  return { state, admission, limiter };
}

describe('memory_limiter limits', () => {
  it('takes the spike from limit_mib', () => {
    expect(limitsFor(config({ limit_mib: 500, spike_limit_mib: 100 }))).toEqual({ hard: 500 * MIB, soft: 400 * MIB });
  });

  it('defaults the spike to a fifth of the limit', () => {
    expect(limitsFor(config({ limit_mib: 500 }))).toEqual({ hard: 500 * MIB, soft: 400 * MIB });
  });

  it('takes percentages of the available memory', () => {
    expect(limitsFor(config({ limit_percentage: 50, spike_limit_percentage: 10 }), () => 1000 * MIB)).toEqual({ hard: 500 * MIB, soft: 400 * MIB });
  });

  it('reads a cgroup v2 limit', () => {
    expect(availableMemory((path) => (path === '/sys/fs/cgroup/memory.max' ? '536870912\n' : ''))).toBe(536870912);
  });

  it('falls back to host memory without a cgroup limit', () => {
    const host = availableMemory(() => { throw new Error('ENOENT'); });
    expect(availableMemory((path) => (path === '/sys/fs/cgroup/memory.max' ? 'max\n' : '9223372036854771712'))).toBe(host);
  });

  it('forces a collection in this process', () => {
    const collect = forcedGc();
    expect(() => collect()).not.toThrow();
  });
});

describe('memory_limiter state', () => {
  it('refuses above the soft limit with Retry-After', () => {
    const { state, admission, limiter } = scenario();
    state.rss = 85 * MIB;
    state.live = 85 * MIB;

    limiter.check();

    expect(limiter.refusing).toBe(true);
    let caught: unknown;
    try {
      admission.check();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WatchpostError);
    expect((caught as WatchpostError).code).toBe('WP_ERR_RECEIVER_OVERLOADED');
    expect((caught as WatchpostError).retryable).toBe(true);
    expect((caught as { retryAfterSeconds?: number }).retryAfterSeconds).toBe(2);
  });

  it('admits again below the soft limit', () => {
    const { state, admission, limiter } = scenario();
    state.rss = state.live = 85 * MIB;
    limiter.check();
    state.rss = state.live = 70 * MIB;
    limiter.check();
    expect(limiter.refusing).toBe(false);
    expect(() => admission.check()).not.toThrow();
  });

  it('collects at every check above the hard limit', () => {
    const { state, limiter } = scenario();
    state.rss = state.live = 120 * MIB;
    limiter.check();
    limiter.check();
    expect(state.collections).toBe(2);
    expect(limiter.refusing).toBe(true);
  });

  it('collects at most every 10 s above the soft limit', () => {
    const { state, limiter } = scenario();
    state.rss = state.live = 90 * MIB;
    limiter.check();
    state.now += 5000;
    limiter.check();
    expect(state.collections).toBe(1);
    state.now += 5000;
    limiter.check();
    expect(state.collections).toBe(2);
  });

  it('does not refuse when a collection brought memory down', () => {
    const { state, limiter } = scenario();
    state.rss = 120 * MIB;
    state.live = 60 * MIB;
    state.afterGc = 70 * MIB;
    limiter.check();
    expect(limiter.refusing).toBe(false);
  });

  it('ignores allocator slack between the soft and hard limit', () => {
    const { state, limiter } = scenario();
    state.rss = 95 * MIB;
    state.live = 40 * MIB;
    limiter.check();
    expect(limiter.refusing).toBe(false);
  });

  it('refuses above the hard limit while the estimate is high', () => {
    const { state, limiter } = scenario();
    state.rss = 120 * MIB;
    state.live = 90 * MIB;
    limiter.check();
    expect(limiter.refusing).toBe(true);
    expect(state.collections).toBe(1);
  });

  it('admits above the hard limit once little memory is in use', () => {
    const { state, admission, limiter } = scenario();
    state.rss = state.live = 120 * MIB;
    limiter.check();
    expect(limiter.refusing).toBe(true);

    // The burst is over: the heap is small again, but the allocator keeps the resident memory.
    state.live = 40 * MIB;
    state.now += 1000;
    limiter.check();
    expect(limiter.refusing).toBe(false);
    expect(() => admission.check()).not.toThrow();
    expect(state.collections).toBe(2);
  });

  it('collects every 10 s above the hard limit once settled', () => {
    const { state, limiter } = scenario();
    state.rss = 120 * MIB;
    state.live = 40 * MIB;
    limiter.check();
    state.now += 1000;
    limiter.check();
    state.now += 1000;
    limiter.check();
    expect(state.collections).toBe(1);
    expect(limiter.refusing).toBe(false);
    state.now += 8000;
    limiter.check();
    expect(state.collections).toBe(2);
  });

  it('names current memory figures in the refusal', () => {
    const { state, admission, limiter } = scenario();
    state.rss = state.live = 90 * MIB;
    limiter.check();
    state.rss = state.live = 95 * MIB;
    state.now += 1000;
    limiter.check();
    expect(admission.refusal?.reason).toBe('memory in use 95 MiB (resident 95 MiB) is above the soft limit of 80 MiB');
  });
});

describe('memory_limiter processor', () => {
  it('rejects batches while refusing and passes them otherwise', async () => {
    const harness = new ProcessorHarness();
    const settings = config({ limit_mib: 1_000_000, check_interval: 3000 });
    const shared = harness.createShared(memoryLimiterFactory, { config: settings });
    const next = new CaptureConsumer();
    const processor = harness.create(memoryLimiterFactory, { config: settings, next, shared: shared.value });
    const batch = () => encodedBatch(tracesBatch(traces({ api: [span({ traceId: '01'.repeat(16) })] })));

    await processor.consume(batch());
    shared.value.limiter.refusing = true;
    await expect(processor.consume(batch())).rejects.toMatchObject({ code: 'WP_ERR_RECEIVER_OVERLOADED', retryable: true, retryAfterSeconds: 3 });
    await harness.close();

    expect(next.items).toBe(1);
    expect(harness.registry.render()).toContain('watchpost_memory_limiter_refused_items_total{processor="memory_limiter",signal="traces"} 1');
  });

  it('needs exactly one limit', () => {
    const problems: string[] = [];
    memoryLimiterFactory.validate?.(config({}), (message) => problems.push(message));
    memoryLimiterFactory.validate?.(config({ limit_mib: 100, limit_percentage: 50 }), (message) => problems.push(message));
    memoryLimiterFactory.validate?.(config({ limit_mib: 100, spike_limit_mib: 100 }), (message) => problems.push(message));
    expect(problems).toEqual([
      'set exactly one of limit_mib and limit_percentage above 0',
      'set exactly one of limit_mib and limit_percentage above 0',
      'spike_limit_mib (100) must be below limit_mib (100)',
    ]);
  });
});
