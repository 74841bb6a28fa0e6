import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../core/cli/builtins.js';
import type { Component, Host, PipelineInput, ProcessorFactory, ReceiverFactory, ExporterFactory, ExtensionFactory, Factory } from '../../core/component.js';
import { nodeFromValue } from '../../core/config/node.js';
import { mergeDefaults, ParseContext } from '../../core/config/schema.js';
import { Admission } from '../../core/admission.js';
import { AdminServer } from '../../core/admin/server.js';
import { FindingsBus } from '../../core/findings-bus.js';
import { silentLogger } from '../../core/logger.js';
import { WorkerPool } from '../../core/pool/pool.js';
import { Storage } from '../../core/storage/storage.js';
import { MetricsRegistry, PipelineMetrics } from '../../core/telemetry/metrics.js';
import { tempDirectory } from '../helpers/tmp.js';

/**
 * The smallest valid config of each built-in component, keyed `kind:type`. A new component must
 * add its entry here, so that every factory goes through the lifecycle contract below.
 */
const MINIMAL_CONFIGS: Record<string, (directory: string) => unknown> = {
  'receiver:otlp': () => ({ protocols: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } } }),
  'receiver:gatewaylog': (directory) => ({ include: [`${directory}/access.log`] }),
  'receiver:syslog': () => ({ tcp: { endpoint: '127.0.0.1:0' }, udp: { endpoint: '127.0.0.1:0' } }),
  'processor:detection': () => ({}),
  'processor:probabilistic_sampler': () => ({ sampling_percentage: 10 }),
  'processor:tail_sampling': () => ({ policies: [{ name: 'attacks', type: 'security' }] }),
  'processor:apimetrics': () => ({}),
  'processor:batch': () => ({}),
  'processor:redaction': () => ({}),
  'processor:memory_limiter': () => ({ limit_mib: 4096 }),
  'exporter:file': (directory) => ({ path: `${directory}/out.jsonl` }),
  'exporter:debug': () => ({}),
  'exporter:webhook': () => ({ endpoint: 'http://127.0.0.1:9/hook' }),
  'exporter:splunk_hec': () => ({ endpoint: 'http://127.0.0.1:9', token: 'test-token' }),
  'exporter:elasticsearch': () => ({ endpoints: ['http://127.0.0.1:9'] }),
  'exporter:syslog': () => ({ endpoint: '127.0.0.1:9' }),
  'exporter:ocsf': (directory) => ({ path: `${directory}/ocsf.jsonl` }),
  'exporter:slack': () => ({ webhook_url: 'http://127.0.0.1:9/services/T/B/X' }),
  'exporter:pagerduty': () => ({ endpoint: 'http://127.0.0.1:9/v2/enqueue', routing_key: 'test-routing-key' }),
  'exporter:opsgenie': () => ({ endpoint: 'http://127.0.0.1:9', api_key: 'test-api-key' }),
  'exporter:alertmanager': () => ({ endpoint: 'http://127.0.0.1:9' }),
  'exporter:decisions': () => ({ api_keys: ['test-bouncer-key-0123'] }),
  'exporter:deny_list': (directory) => ({ path: `${directory}/deny.map` }),
  'exporter:otlp': () => ({ endpoint: '127.0.0.1:9', tls: { insecure: true } }),
};

const discard: PipelineInput = { consume: async () => undefined, workerStages: [] };

function create(factory: Factory, config: unknown, base: Record<string, unknown>): Component {
  const settings = { ...base, id: factory.type, config } as never;
  switch (factory.kind) {
    case 'receiver': return (factory as ReceiverFactory).create({ ...(settings as object), consumers: { traces: discard, metrics: discard, logs: discard } } as never);
    case 'processor': {
      const processor = factory as ProcessorFactory;
      const shared = processor.createShared?.({ ...(settings as object), outputs: {} } as never);
      return processor.create({ ...(settings as object), signal: processor.signals[0], pipeline: processor.signals[0], next: discard, shared: shared?.value } as never);
    }
    case 'exporter': return (factory as ExporterFactory).create(settings);
    default: return (factory as ExtensionFactory).create(settings);
  }
}

describe('component lifecycle contract', () => {
  const registry = builtinRegistry();

  for (const factory of registry.all()) {
    it(`${factory.kind} ${factory.type} starts and shuts down safely`, async () => {
      const directory = tempDirectory();
      const logger = silentLogger();
      const pool = new WorkerPool({ threads: 1, maxQueue: 0, stages: [], parsers: [], modules: [], logger });
      const storage = new Storage(directory.path);
      const admin = new AdminServer('127.0.0.1:0', logger);
      const host: Host = { admin, findingsBus: new FindingsBus(), reportStatus: () => undefined };
      try {
        const minimal = MINIMAL_CONFIGS[`${factory.kind}:${factory.type}`];
        expect(minimal, `add a minimal config for ${factory.kind} ${factory.type} to MINIMAL_CONFIGS`).toBeDefined();
        const context = new ParseContext();
        const parsed = factory.schema.parse(nodeFromValue(minimal(directory.path), factory.type), context);
        expect(context.issues).toEqual([]);
        const config = mergeDefaults(factory.createDefaultConfig(), parsed);
        const base = { logger, metrics: new PipelineMetrics(new MetricsRegistry()), pool, storage, admission: new Admission() };

        const beforeStart = create(factory, config, base);
        await beforeStart.shutdown();

        const component = create(factory, config, base);
        await component.start(host);
        await component.shutdown();
        await component.shutdown();
      } finally {
        await pool.close();
        await storage.close();
        await admin.shutdown();
        directory.cleanup();
      }
    });
  }
});
