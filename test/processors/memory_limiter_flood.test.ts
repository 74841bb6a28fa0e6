import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/wait.js';
import { encodeRequest } from '../../core/otlp/codec.js';
import { span, traces } from './helpers.js';

const LIMIT_MIB = 400;
const SPIKE_MIB = 100;
/** The flood lasts at least the first and at most the second, and ends early once the daemon refused for a while. */
const FLOOD_MIN_MS = 3000;
const FLOOD_MAX_MS = 40_000;
const REFUSALS_WANTED = 50;

/** Current and peak resident set size of a process, in MiB, from /proc. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const read = (field: string) => {
    const line = status.split('\n').find((entry) => entry.startsWith(`${field}:`));
    return Number(line?.split(/\s+/)[1] ?? NaN) / 1024;
  };
  return { rss: read('VmRSS'), peak: read('VmHWM') };
}

/**
 * About 1 MiB of spans: 64 spans with 16 KiB attributes each. The attributes are random, because
 * tail_sampling keeps held batches deflated and repeated text would take almost no memory.
 */
function floodBodies(): Uint8Array[] {
  return Array.from({ length: 20 }, (_, body) => encodeRequest('traces', traces({ api: Array.from({ length: 64 }, (_, index) => span({
    traceId: (body * 1000 + index + 1).toString(16).padStart(32, '0'),
    attributes: { 'app.payload': randomBytes(12_288).toString('base64') },
  })) })));
}

describe('memory_limiter under a flood', () => {
  let daemon: Daemon;

  beforeAll(async () => {
    daemon = await Daemon.start(`
receivers:
  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }
processors:
  memory_limiter: { check_interval: 100ms, limit_mib: ${LIMIT_MIB}, spike_limit_mib: ${SPIKE_MIB} }
  tail_sampling: { decision_wait: 20s, num_traces: 1000000, max_spans_per_trace: 1000000, policies: [{ name: all, type: always_sample }] }
exporters:
  debug: { verbosity: basic }
service:
  admin: { endpoint: 127.0.0.1:0 }
  worker_pool: { threads: 1 }
  pipelines:
    traces: { receivers: [otlp], processors: [memory_limiter, tail_sampling], exporters: [debug] }
`);
  });

  afterAll(async () => {
    await daemon?.dispose();
  });

  it('refuses, stays within limit plus spike, and recovers', async () => {
    const pid = daemon.pid as number;
    const url = `http://${daemon.endpoint('otlp')}/v1/traces`;
    const bodies = floodBodies();
    const post = (body: Uint8Array) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body });
    const outcome = { accepted: 0, refused: 0, retryAfter: new Set<string>(), failed: 0 };
    const started = Date.now();
    const flooding = () => Date.now() - started < FLOOD_MIN_MS || (outcome.refused < REFUSALS_WANTED && Date.now() - started < FLOOD_MAX_MS);

    await Promise.all(Array.from({ length: 8 }, async (_, client) => {
      for (let sent = client; flooding(); sent++) {
        try {
          const response = await post(bodies[sent % bodies.length]);
          await response.arrayBuffer();
          if (response.status === 200) outcome.accepted++;
          if (response.status === 503) {
            outcome.refused++;
            outcome.retryAfter.add(response.headers.get('retry-after') ?? '');
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
        } catch {
          // The daemon sends 503 before reading the body and closes the connection, which a client still writing gets as a reset.
          outcome.failed++;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    }));
    const peak = memoryOf(pid).peak;

    expect(outcome.accepted).toBeGreaterThan(0);
    expect(outcome.refused).toBeGreaterThan(0);
    expect([...outcome.retryAfter]).toEqual(['1']);
    expect(peak).toBeLessThanOrEqual(LIMIT_MIB + SPIKE_MIB);
    expect(daemon.logs.some((line) => line.msg === 'memory above the soft limit; receivers refuse data')).toBe(true);

    const status = await waitFor(async () => {
      // A refusal may still close the connection under a request that is being written.
      const response = await post(bodies[0]).catch(() => undefined);
      await response?.arrayBuffer();
      return response?.status === 200 ? response.status : undefined;
    }, 60_000, 'the daemon to accept data again');
    expect(status).toBe(200);
    expect(daemon.logs.some((line) => line.msg === 'memory below the soft limit again; receivers accept data')).toBe(true);
    expect(memoryOf(pid).peak).toBeLessThanOrEqual(LIMIT_MIB + SPIKE_MIB);
  }, 150_000);
});
