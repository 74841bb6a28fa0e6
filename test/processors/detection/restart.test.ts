import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../core/logger.js';
import type { Batch } from '../../../core/data/batch.js';
import type { Finding } from '../../../core/data/finding.js';
import { Storage } from '../../../core/storage/storage.js';
import { MetricsRegistry, PipelineMetrics } from '../../../core/telemetry/metrics.js';
import { Admission } from '../../../core/admission.js';
import { AdminServer } from '../../../core/admin/server.js';
import { FindingsBus } from '../../../core/findings-bus.js';
import type { Host, SharedComponent } from '../../../core/component.js';
import type { WorkerPool } from '../../../core/pool/pool.js';
import { detectionProcessorFactory, stageOptionsFor } from '../../../processors/detection/factory.js';
import { createDefaultConfig } from '../../../processors/detection/config.js';
import { DetectionStage, type EventMatch } from '../../../processors/detection/worker.js';
import { eventFromFields } from '../../../processors/detection/event.js';
import type { DetectionEngine } from '../../../processors/detection/engine.js';
import { Daemon } from '../../helpers/daemon.js';
import { tempDirectory } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

const T0 = Date.UTC(2024, 5, 1, 12);

function failedLogins(from: number, count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, index) => ({
    'http.request.method': 'POST', 'url.path': '/login', 'http.response.status_code': 401, 'client.address': '203.0.113.7', time: T0 + (from + index) * 1000,
  }));
}

/** Starts a detection processor's shared part on real lmdb storage, fed through the real worker stage. */
async function startDetection(directory: string, findings: Finding[]): Promise<{ shared: SharedComponent<{ engine: DetectionEngine }>; storage: Storage; feed: (events: Record<string, unknown>[]) => void }> {
  const config = createDefaultConfig();
  const storage = new Storage(directory);
  const settings = {
    id: 'detection', config, logger: silentLogger(), metrics: new PipelineMetrics(new MetricsRegistry()), pool: undefined as unknown as WorkerPool,
    storage, admission: new Admission(), outputs: { findings: { consume: async (batch: Batch) => { if (batch.signal === 'findings') findings.push(...batch.findings); } } },
  };
  const shared = detectionProcessorFactory.createShared?.(settings) as SharedComponent<{ engine: DetectionEngine }>;
  const host: Host = { admin: new AdminServer('127.0.0.1:0', silentLogger()), findingsBus: new FindingsBus(), reportStatus: () => undefined };
  await shared.start(host);
  const stage = new DetectionStage(stageOptionsFor(config));
  const feed = (events: Record<string, unknown>[]) => {
    const matches: EventMatch[] = [];
    for (const fields of events) stage.evaluate(eventFromFields(fields, fields.time as number, stage.extractOptions), matches);
    shared.value.engine.process(matches);
  };
  return { shared, storage, feed };
}

describe('detection state across a restart', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  it('keeps a brute-force count half-way through its window', async () => {
    const directory = tempDirectory();
    cleanup = directory.cleanup;
    const findings: Finding[] = [];

    const first = await startDetection(directory.path, findings);
    first.feed(failedLogins(0, 6));
    await first.shared.shutdown();
    await first.storage.close();

    const second = await startDetection(directory.path, findings);
    second.feed(failedLogins(6, 4));
    await second.shared.shutdown();
    await second.storage.close();

    const bruteForce = findings.filter((finding) => finding.rule.id === 'login-brute-force');
    expect(bruteForce).toHaveLength(1);
    expect(bruteForce[0].count).toBe(10);
    expect(bruteForce[0].first_seen).toBe(new Date(T0).toISOString());
  });

  it('loses the count without saved state', async () => {
    const findings: Finding[] = [];
    const first = tempDirectory();
    const second = tempDirectory();
    cleanup = () => { first.cleanup(); second.cleanup(); };

    const before = await startDetection(first.path, findings);
    before.feed(failedLogins(0, 6));
    await before.shared.shutdown();
    await before.storage.close();
    const after = await startDetection(second.path, findings);
    after.feed(failedLogins(6, 4));
    await after.shared.shutdown();
    await after.storage.close();

    expect(findings.filter((finding) => finding.rule.id === 'login-brute-force')).toHaveLength(0);
  });

  it('does not raise a suppressed finding again after a restart', async () => {
    const directory = tempDirectory();
    cleanup = directory.cleanup;
    const findings: Finding[] = [];
    const probe = (second: number) => ({ 'http.request.method': 'GET', 'url.path': '/.env', 'client.address': '203.0.113.9', time: T0 + second * 1000 });

    const first = await startDetection(directory.path, findings);
    first.feed([probe(0)]);
    await first.shared.shutdown();
    await first.storage.close();
    const second = await startDetection(directory.path, findings);
    second.feed([probe(5)]);
    await second.shared.shutdown();
    await second.storage.close();

    const sensitive = findings.filter((finding) => finding.rule.id === 'sensitive-file');
    expect(sensitive.map((finding) => [finding.status, finding.count])).toEqual([['new', 1], ['update', 2]]);
  });
});

function daemonConfig(): string {
  return `
receivers:
  gatewaylog/nginx:
    include: [./access.log]
    format: nginx_combined
    start_at: beginning
    poll_interval: 50ms
processors:
  detection:
    state: { save_interval: 0s }
exporters:
  file/findings: { path: ./findings.jsonl }
  debug: { verbosity: basic }
service:
  admin: { endpoint: 127.0.0.1:0 }
  storage: { directory: ./data }
  pipelines:
    logs: { receivers: [gatewaylog/nginx], processors: [detection], exporters: [debug] }
    findings: { receivers: [detection], exporters: [file/findings] }
`;
}

function loginLine(second: number): string {
  const time = `01/Jun/2024:12:00:${String(second).padStart(2, '0')} +0000`;
  return `203.0.113.7 - - [${time}] "POST /login HTTP/1.1" 401 153 "-" "Mozilla/5.0"\n`;
}

async function acceptedLines(daemon: Daemon): Promise<number> {
  const text = await (await fetch(`http://${daemon.endpoint('admin')}/metrics`)).text();
  const match = /watchpost_receiver_accepted_items_total\{receiver="gatewaylog\/nginx",signal="logs"\} (\d+)/.exec(text);
  return match ? Number(match[1]) : 0;
}

describe('daemon restart in the middle of a window', () => {
  let daemon: Daemon | undefined;
  let cleanup: (() => void) | undefined;
  afterEach(async () => {
    await daemon?.dispose();
    cleanup?.();
  });

  it('keeps the count in lmdb between runs', async () => {
    const directory = tempDirectory('watchpost-restart-');
    cleanup = directory.cleanup;
    const log = `${directory.path}/access.log`;
    appendFileSync(log, Array.from({ length: 6 }, (_, second) => loginLine(second)).join(''));

    daemon = await Daemon.start(daemonConfig(), { directory: directory.path });
    await waitFor(async () => (await acceptedLines(daemon as Daemon)) === 6, 15_000, 'six lines accepted');
    expect(await daemon.stop('SIGTERM')).toBe(0);

    // The receiver resumes from its checkpoint, so only the four new lines reach the second run.
    appendFileSync(log, Array.from({ length: 4 }, (_, index) => loginLine(6 + index)).join(''));
    daemon = await Daemon.start(daemonConfig(), { directory: directory.path });
    const finding = await waitFor(() => {
      const path = `${directory.path}/findings.jsonl`;
      if (!existsSync(path)) return undefined;
      return readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Finding).find((candidate) => candidate.rule.id === 'login-brute-force');
    }, 15_000, 'the brute-force finding');

    expect(await acceptedLines(daemon)).toBe(4);
    expect(daemon.logs.some((line) => line.msg === 'following file' && line.resumed === true)).toBe(true);
    expect(finding.count).toBe(10);
    expect(finding.first_seen).toBe('2024-06-01T12:00:00.000Z');
    expect(daemon.logs.some((line) => line.msg === 'detection state restored')).toBe(true);
  });
});
