import type { Host, Processor, ProcessorFactory, ProcessorSettings, SharedComponent, SharedSettings } from '../../core/component.js';
import { OtlpBatch, type Batch } from '../../core/data/batch.js';
import type { AdminServer } from '../../core/admin/server.js';
import { sendJson } from '../../core/admin/server.js';
import type { StageSpec } from '../../core/pool/pool.js';
import type { Counter, MetricsRegistry } from '../../core/telemetry/metrics.js';
import { errorMessage } from '../../core/errors.js';
import { DropLog } from '../helper/drop-log.js';
import { ApiAggregator } from './aggregator.js';
import { createDefaultConfig, schema, validateConfig, type ApiMetricsConfig } from './config.js';
import { toOtlp, toPrometheus } from './export.js';
import { loadOpenApi, type OpenApiRoutes } from './openapi.js';
import type { ObserveOptions, ObserveResult, ObserveTask } from './worker.js';

const WORKER_MODULE = new URL(import.meta.url.endsWith('.ts') ? './worker.ts' : './worker.js', import.meta.url).href;

const openapiByConfig = new WeakMap<ApiMetricsConfig, OpenApiRoutes | undefined>();

/** Loads (once per config object) the OpenAPI document a config names. */
function openapiFor(config: ApiMetricsConfig): OpenApiRoutes | undefined {
  if (!openapiByConfig.has(config)) openapiByConfig.set(config, config.openapi ? loadOpenApi(config.openapi) : undefined);
  return openapiByConfig.get(config);
}

function observeOptions(config: ApiMetricsConfig): ObserveOptions {
  return { buckets: config.buckets, routeFromPath: config.route_from_path, errorStatusMin: config.error_status_min, templates: openapiFor(config)?.templates ?? [] };
}

/** Every running apimetrics state, per admin server and per metrics registry, so the route and the collector are added once. */
const inventories = new WeakMap<AdminServer, Map<string, ApiMetricsShared>>();
const scraped = new WeakMap<MetricsRegistry, Map<string, ApiMetricsShared>>();

/**
 * The RED metrics and API inventory of one apimetrics id, shared by every pipeline that runs it.
 * It sends cumulative metrics to the metrics pipelines that list it as a receiver every
 * `interval`, serves them on /metrics, and serves the inventory on /v1/inventory.
 */
class ApiMetricsShared implements SharedComponent<ApiMetricsShared> {
  readonly value = this;
  readonly aggregator: ApiAggregator;
  readonly options: ObserveOptions;
  private readonly overflowCounter: Counter;
  private readonly dropLog: DropLog;
  private timer: NodeJS.Timeout | undefined;
  private host: Host | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly settings: SharedSettings<ApiMetricsConfig>) {
    const { config, logger } = settings;
    this.options = observeOptions(config);
    this.overflowCounter = settings.metrics.registry.counter('watchpost_apimetrics_overflow_total', 'Requests counted into the overflow series or left out of a full API inventory, by limit.');
    this.aggregator = new ApiAggregator({
      buckets: config.buckets,
      maxSeries: config.max_series,
      maxRoutes: config.max_routes,
      openapi: openapiFor(config),
      onLimit: (what, limit) => logger.warn({ limit, what }, what === 'series'
        ? 'apimetrics reached max_series; further series are counted in the overflow series'
        : 'apimetrics reached max_routes; further routes are left out of the inventory'),
    });
    this.dropLog = new DropLog(logger, 'apimetrics could not pass metrics to the metrics pipelines');
  }

  async start(host: Host): Promise<void> {
    this.host = host;
    this.register(host.admin);
    let collectors = scraped.get(this.settings.metrics.registry);
    if (!collectors) {
      const registered = new Map<string, ApiMetricsShared>();
      collectors = registered;
      scraped.set(this.settings.metrics.registry, registered);
      this.settings.metrics.registry.addCollector(() => toPrometheus([...registered].map(([processor, shared]) => ({ processor, series: shared.aggregator.allSeries(), buckets: shared.options.buckets }))));
    }
    collectors.set(this.settings.id, this);
    if (this.settings.outputs.metrics) {
      this.timer = setInterval(() => this.emit(), this.settings.config.interval);
      this.timer.unref();
    }
  }

  /** Sends the final totals and waits for the metrics pipelines to take them. */
  async shutdown(): Promise<void> {
    clearInterval(this.timer);
    if (this.timer) this.emit();
    this.timer = undefined;
    await Promise.allSettled([...this.inFlight]);
    this.dropLog.flush();
    if (this.host) inventories.get(this.host.admin)?.delete(this.settings.id);
  }

  record(result: ObserveResult): void {
    const before = { series: this.aggregator.overflowed, routes: this.aggregator.routesDropped };
    this.aggregator.record(result);
    this.overflowCounter.add({ processor: this.settings.id, limit: 'max_series' }, this.aggregator.overflowed - before.series);
    this.overflowCounter.add({ processor: this.settings.id, limit: 'max_routes' }, this.aggregator.routesDropped - before.routes);
  }

  /** Passes the cumulative totals to the metrics pipelines; a refused export loses nothing, because the next one carries the totals again. */
  emit(): void {
    const output = this.settings.outputs.metrics;
    const series = this.aggregator.allSeries();
    if (!output || series.length === 0) return;
    const batch = OtlpBatch.fromMessage('metrics', toOtlp(series, this.options.buckets, Date.now()), { receiver: this.settings.id });
    const delivery = output.consume(batch).catch((error: unknown) => {
      this.settings.metrics.processorDropped.add({ processor: this.settings.id, signal: 'metrics', reason: 'metrics_pipeline_refused' }, batch.itemCount);
      this.dropLog.record('metrics_pipeline_refused', batch.itemCount, errorMessage(error));
    }).finally(() => this.inFlight.delete(delivery));
    this.inFlight.add(delivery);
  }

  private register(admin: AdminServer): void {
    let registered = inventories.get(admin);
    if (!registered) {
      const all = new Map<string, ApiMetricsShared>();
      registered = all;
      inventories.set(admin, all);
      admin.route('GET', '/v1/inventory', (_request, response, url) => {
        const service = url.searchParams.get('service');
        const sources = [...all].map(([processor, shared]) => {
          const inventory = shared.aggregator.inventory();
          const routes = service === null ? inventory.routes : inventory.routes.filter((entry) => entry.service === service);
          return { processor, openapi: shared.settings.config.openapi || null, ...inventory, routes };
        });
        sendJson(response, 200, { processors: sources });
      });
    }
    registered.set(this.settings.id, this);
  }
}

/** Passes each batch on after adding its requests to the shared metrics. */
class ApiMetricsProcessor implements Processor {
  constructor(private readonly settings: ProcessorSettings<ApiMetricsConfig, ApiMetricsShared>) {}

  async start(_host: Host): Promise<void> {}

  async shutdown(): Promise<void> {}

  async consume(batch: Batch): Promise<void> {
    const { settings } = this;
    if (batch.signal === 'traces' || batch.signal === 'logs') {
      let result = batch.analysisFor<ObserveResult>(settings.id);
      if (!result) {
        const task: ObserveTask = { signal: batch.signal, bytes: batch.toBytes(), options: settings.shared.options };
        result = await settings.pool.run<ObserveResult>('apimetrics.observe', task);
      }
      settings.shared.record(result);
    }
    settings.metrics.processorOutgoing.add({ processor: settings.id, signal: batch.signal }, batch.itemCount);
    await settings.next.consume(batch);
  }
}

export const apiMetricsFactory: ProcessorFactory<ApiMetricsConfig, ApiMetricsShared> = {
  kind: 'processor',
  type: 'apimetrics',
  description: 'Counts requests, errors and latency per service, route, method and status class; serves the API inventory.',
  signals: ['traces', 'logs'],
  emits: ['metrics'],
  schema,
  createDefaultConfig,
  workerModules: [WORKER_MODULE],
  validate(config, report) {
    validateConfig(config, report);
    try {
      openapiFor(config);
    } catch (error) {
      report(errorMessage(error), 'openapi');
    }
  },
  workerStage(id, config): StageSpec {
    return { id, kind: 'apimetrics', module: WORKER_MODULE, options: observeOptions(config) };
  },
  createShared: (settings) => new ApiMetricsShared(settings),
  create: (settings) => new ApiMetricsProcessor(settings),
};
