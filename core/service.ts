import { resolve } from 'node:path';
import type { ComponentStatus, Host } from './component.js';
import type { ServiceConfig } from './config/load.js';
import type { Logger } from './logger.js';
import { AdminServer, sendJson } from './admin/server.js';
import { Admission } from './admission.js';
import { FindingsBus } from './findings-bus.js';
import { buildGraph, collectWorkerSpecs, type GraphNode } from './pipeline/graph.js';
import { WorkerPool } from './pool/pool.js';
import { Storage } from './storage/storage.js';
import { MetricsRegistry, PipelineMetrics } from './telemetry/metrics.js';
import { errorMessage, WatchpostError } from './errors.js';
import { withTimeout } from './timeout.js';

interface StatusEntry {
  status: ComponentStatus;
  message?: string;
}

/**
 * A running Watchpost: the admin endpoint, the worker pool, storage, and the pipeline graph.
 * `start` brings everything up in dependency order and, if any component fails, stops what
 * already started before rethrowing. `shutdown` stops receivers first and gives the rest up to
 * `service.shutdown_timeout` to drain.
 */
export class Service {
  readonly metrics: PipelineMetrics;
  readonly registry = new MetricsRegistry();
  readonly admin: AdminServer;
  readonly admission = new Admission();
  readonly findingsBus = new FindingsBus();
  private readonly statuses = new Map<string, StatusEntry>();
  private pool: WorkerPool | undefined;
  private storage: Storage | undefined;
  private started: GraphNode[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly config: ServiceConfig, private readonly logger: Logger) {
    this.metrics = new PipelineMetrics(this.registry);
    this.admin = new AdminServer(config.service.admin.endpoint, logger.child({ component: 'admin' }));
  }

  async start(): Promise<void> {
    const settings = this.config.service;
    const specs = collectWorkerSpecs(this.config);
    this.storage = new Storage(resolve(settings.storage.directory));
    this.pool = new WorkerPool({
      threads: settings.worker_pool.threads,
      maxQueue: settings.worker_pool.max_queue,
      ...specs,
      logger: this.logger.child({ component: 'worker_pool' }),
      failures: this.metrics.workerFailures,
    });
    this.registerAdminRoutes();

    const graph = buildGraph(this.config, { logger: this.logger, metrics: this.metrics, pool: this.pool, storage: this.storage, admission: this.admission });
    const host: Host = { admin: this.admin, findingsBus: this.findingsBus, reportStatus: (id, status, message) => this.reportStatus(id, status, message) };
    try {
      await this.pool.ready();
      // A signal during the wait for the workers began the shutdown; nothing more may start.
      if (this.stopping) throw new WatchpostError('WP_ERR_SHUTTING_DOWN', 'shutdown began while the daemon was starting');
      await this.admin.start();
      for (const node of graph.nodes) {
        try {
          await node.component.start(host);
        } catch (error) {
          throw new WatchpostError('WP_ERR_COMPONENT_START', `${node.kind} ${node.id}: failed to start: ${errorMessage(error)}`, { cause: error });
        }
        this.started.push(node);
      }
    } catch (error) {
      await this.shutdown();
      throw error;
    }
    this.logger.info({ pipelines: [...this.config.pipelines.keys()], workers: this.pool.threads }, 'watchpost started');
  }

  /** The admin endpoint's bound address, for tests that listen on port 0. */
  adminAddress(): string {
    return this.admin.address();
  }

  shutdown(): Promise<void> {
    this.stopping ??= this.stop();
    return this.stopping;
  }

  private async stop(): Promise<void> {
    const deadline = Date.now() + this.config.service.shutdown_timeout;
    this.admission.drain();
    for (const node of [...this.started].reverse()) {
      const remaining = Math.max(deadline - Date.now(), 100);
      const timedOut = await withTimeout(node.component.shutdown(), remaining).catch((error: unknown) => {
        this.logger.error({ err: error, component: node.kind, id: node.id }, 'component failed to shut down cleanly');
        return false;
      });
      if (timedOut) this.logger.error({ component: node.kind, id: node.id, timeout_ms: remaining }, 'component shutdown timed out; data it held may be lost');
    }
    this.started = [];
    await this.pool?.close();
    await this.storage?.close();
    await this.admin.shutdown();
    this.logger.info('watchpost stopped');
  }

  private reportStatus(id: string, status: ComponentStatus, message?: string): void {
    const previous = this.statuses.get(id);
    if (previous?.status === status && previous.message === message) return;
    this.statuses.set(id, { status, message });
    if (status !== 'ok') this.logger.warn({ id, status, message }, 'component health changed');
    else if (previous && previous.status !== 'ok') this.logger.info({ id }, 'component recovered');
  }

  private registerAdminRoutes(): void {
    this.admin.route('GET', '/metrics', (_request, response) => {
      const body = this.registry.render();
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      response.end(body);
    });
    this.admin.route('GET', '/healthz', (_request, response) => {
      const components = Object.fromEntries(this.statuses);
      const failing = [...this.statuses.values()].some((entry) => entry.status === 'failing');
      sendJson(response, failing ? 503 : 200, { status: failing ? 'unhealthy' : 'ok', components });
    });
    // Readiness, unlike liveness, also turns 503 while receivers refuse data (memory_limiter), so
    // a load balancer sends traffic elsewhere instead of restarting a daemon that works as meant.
    this.admin.route('GET', '/readyz', (_request, response) => {
      const refusal = this.admission.refusal;
      const failing = [...this.statuses].filter(([, entry]) => entry.status === 'failing').map(([id]) => id);
      if (refusal) sendJson(response, 503, { status: 'refusing', reason: refusal.reason });
      else if (failing.length > 0) sendJson(response, 503, { status: 'unhealthy', failing });
      else if (this.admission.draining) sendJson(response, 503, { status: 'stopping' });
      else sendJson(response, 200, { status: 'ready' });
    });
  }
}
