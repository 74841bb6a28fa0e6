import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { ComponentStatus, CreateSettings, Exporter, ExporterFactory, Host } from '../../core/component.js';
import { FindingsBatch } from '../../core/data/batch.js';
import type { Finding } from '../../core/data/finding.js';
import { AdminServer } from '../../core/admin/server.js';
import { Admission } from '../../core/admission.js';
import { FindingsBus } from '../../core/findings-bus.js';
import { createLogger, silentLogger, type Logger } from '../../core/logger.js';
import type { WorkerPool } from '../../core/pool/pool.js';
import { Storage } from '../../core/storage/storage.js';
import { MetricsRegistry, PipelineMetrics } from '../../core/telemetry/metrics.js';
import { mergeDefaults } from '../../core/config/schema.js';
import { tempDirectory } from '../helpers/tmp.js';

const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'exporters');

/** Reads fresh copies of the hand-written findings in test/fixtures/exporters/findings.json. */
export function fixtureFindings(): Finding[] {
  return JSON.parse(readFileSync(join(FIXTURES, 'findings.json'), 'utf8')) as Finding[];
}

export function findingsBatch(findings: Finding[]): FindingsBatch {
  return new FindingsBatch(findings, { receiver: 'detection' });
}

/** Creates a logger whose JSON lines land in `lines`, for tests that check what was logged. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger({ level: 'debug', destination }), lines };
}

/** A host with a real admin server on 127.0.0.1:0 that records health reports. */
export class TestHost implements Host {
  readonly admin = new AdminServer('127.0.0.1:0', silentLogger());
  readonly findingsBus = new FindingsBus();
  readonly statuses: { id: string; status: ComponentStatus; message?: string }[] = [];

  reportStatus(id: string, status: ComponentStatus, message?: string): void {
    this.statuses.push({ id, status, message });
  }

  lastStatus(id: string): ComponentStatus | undefined {
    return this.statuses.filter((entry) => entry.id === id).at(-1)?.status;
  }
}

/** Everything an exporter needs from the service, built from real parts with temporary storage. */
export class ExporterHarness {
  readonly registry = new MetricsRegistry();
  readonly metrics = new PipelineMetrics(this.registry);
  host = new TestHost();
  readonly directory = tempDirectory('watchpost-exporter-');
  storage = new Storage(this.directory.path);
  readonly log = capturingLogger();
  private readonly exporters: Exporter[] = [];

  /** Creates an exporter from its factory with the config merged over the factory's defaults. */
  create<C>(factory: ExporterFactory<C>, config: Record<string, unknown>, id: string = factory.type): Exporter {
    const merged = mergeDefaults(factory.createDefaultConfig(), config) as C;
    const problems: string[] = [];
    factory.validate?.(merged, (message) => problems.push(message));
    if (problems.length > 0) throw new Error(`invalid config: ${problems.join('; ')}`);
    const settings: CreateSettings<C> = {
      id,
      config: merged,
      logger: this.log.logger.child({ component: 'exporter', id }),
      metrics: this.metrics,
      pool: undefined as unknown as WorkerPool,
      storage: this.storage,
      admission: new Admission(),
    };
    const exporter = factory.create(settings);
    this.exporters.push(exporter);
    return exporter;
  }

  async start(exporter: Exporter): Promise<Exporter> {
    await exporter.start(this.host);
    return exporter;
  }

  /** Reopens the storage, as a restarted daemon would, after the exporters using it shut down. */
  async reopenStorage(): Promise<void> {
    await this.storage.close();
    this.storage = new Storage(this.directory.path);
  }

  /** Sums the series of a metric whose labels include `labels`. */
  metric(name: string, labels: Record<string, string>): number {
    const lines = this.registry.render().split('\n').filter((text) => {
      if (!text.startsWith(`${name}{`)) return false;
      return Object.entries(labels).every(([key, value]) => text.includes(`${key}="${value}"`));
    });
    return lines.reduce((total, line) => total + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  }

  async close(): Promise<void> {
    for (const exporter of this.exporters) await exporter.shutdown();
    await this.host.admin.shutdown();
    await this.storage.close();
    this.directory.cleanup();
  }
}
