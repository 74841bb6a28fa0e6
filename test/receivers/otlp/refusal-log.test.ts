import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../../core/logger.js';
import { MetricsRegistry } from '../../../core/telemetry/metrics.js';
import { RefusalLog } from '../../../receivers/otlp/refusal.js';

function capturedLog(): { lines: Record<string, unknown>[]; log: RefusalLog } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: new RefusalLog('otlp', createLogger({ level: 'info', destination }), new MetricsRegistry()) };
}

describe('refusal log', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs held refusals when the interval ends', async () => {
    vi.useFakeTimers();
    const { lines, log } = capturedLog();

    log.record('http', 'too_large', 'body too large');
    log.record('http', 'invalid', 'bad JSON');
    await vi.advanceTimersByTimeAsync(10);
    expect(lines.filter((line) => line.msg === 'refused OTLP requests')).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(60_000);
    const logged = lines.filter((line) => line.msg === 'refused OTLP requests');
    expect(logged).toHaveLength(2);
    expect(logged[1].refused).toEqual({ 'http/invalid': 1 });
    expect(logged[1].last_error).toBe('bad JSON');
  });
});
