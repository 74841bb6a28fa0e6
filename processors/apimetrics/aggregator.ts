import type { Aggregate, ObserveResult } from './worker.js';
import { canonicalRoute } from './routes.js';
import type { OpenApiRoutes } from './openapi.js';

/** One series of the RED metrics: cumulative since `startMs`. */
export interface Series {
  service: string;
  method: string;
  route: string;
  statusClass: string;
  /** True for the one series that counts requests past the cardinality limit. */
  overflow: boolean;
  startMs: number;
  count: number;
  errors: number;
  timed: number;
  sum: number;
  bucketCounts: number[];
}

/** One route of the API inventory. */
export interface InventoryEntry {
  service: string;
  method: string;
  route: string;
  first_seen: string;
  last_seen: string;
  request_count: number;
  error_count: number;
  /** error_count / request_count, rounded to four decimals. */
  error_share: number;
  /** Whether the loaded OpenAPI document has this route and method; null without a document. */
  in_openapi: boolean | null;
}

interface RouteStats {
  service: string;
  method: string;
  route: string;
  firstMs: number;
  lastMs: number;
  count: number;
  errors: number;
}

export interface AggregatorOptions {
  buckets: number[];
  maxSeries: number;
  maxRoutes: number;
  openapi?: OpenApiRoutes;
  /** Called once when the series or the routes first pass their limit. */
  onLimit?: (what: 'series' | 'routes', limit: number) => void;
  now?: () => number;
}

/**
 * The RED metrics and the API inventory, merged from the worker's per-batch aggregates. Series
 * past `maxSeries` go into one overflow series and routes past `maxRoutes` are counted in
 * `routesDropped`, so memory stays bounded whatever paths clients send.
 */
export class ApiAggregator {
  private readonly series = new Map<string, Series>();
  private overflowSeries: Series | undefined;
  private readonly routes = new Map<string, RouteStats>();
  /** Requests counted into the overflow series. */
  overflowed = 0;
  /** Requests whose route was not added to a full inventory. */
  routesDropped = 0;
  private readonly now: () => number;

  constructor(private readonly options: AggregatorOptions) {
    this.now = options.now ?? Date.now;
  }

  record(result: ObserveResult): void {
    for (const aggregate of result.aggregates) {
      this.addSeries(aggregate);
      this.addRoute(aggregate);
    }
  }

  /** Returns every series, the overflow series last. */
  allSeries(): Series[] {
    const all = [...this.series.values()];
    if (this.overflowSeries) all.push(this.overflowSeries);
    return all;
  }

  inventory(): { routes: InventoryEntry[]; documented_not_seen: { method: string; route: string }[]; routes_dropped: number } {
    const openapi = this.options.openapi;
    const seen = new Set<string>();
    const routes = [...this.routes.values()].map((stats): InventoryEntry => {
      const template = openapi?.byCanonical.get(canonicalRoute(stats.route));
      const documented = template !== undefined && (template.methods.length === 0 || template.methods.includes(stats.method));
      if (documented) seen.add(`${stats.method} ${template.template}`);
      return {
        service: stats.service,
        method: stats.method,
        route: stats.route,
        first_seen: new Date(stats.firstMs).toISOString(),
        last_seen: new Date(stats.lastMs).toISOString(),
        request_count: stats.count,
        error_count: stats.errors,
        error_share: Math.round((stats.errors / stats.count) * 10_000) / 10_000,
        in_openapi: openapi ? documented : null,
      };
    }).sort((a, b) => a.service.localeCompare(b.service) || a.route.localeCompare(b.route) || a.method.localeCompare(b.method));
    const notSeen = (openapi?.templates ?? []).flatMap((template) => template.methods
      .filter((method) => !seen.has(`${method} ${template.template}`))
      .map((method) => ({ method, route: template.template })));
    return { routes, documented_not_seen: notSeen, routes_dropped: this.routesDropped };
  }

  private addSeries(aggregate: Aggregate): void {
    const key = `${aggregate.service}\u001f${aggregate.method}\u001f${aggregate.route}\u001f${aggregate.statusClass}`;
    let series = this.series.get(key);
    if (!series) {
      if (this.series.size >= this.options.maxSeries) {
        if (!this.overflowSeries) {
          this.overflowSeries = this.newSeries({ service: '', method: '', route: '', statusClass: '' }, true);
          this.options.onLimit?.('series', this.options.maxSeries);
        }
        this.overflowed += aggregate.count;
        series = this.overflowSeries;
      } else {
        series = this.newSeries(aggregate, false);
        this.series.set(key, series);
      }
    }
    series.count += aggregate.count;
    series.errors += aggregate.errors;
    series.timed += aggregate.timed;
    series.sum += aggregate.sum;
    aggregate.bucketCounts.forEach((count, index) => { series.bucketCounts[index] += count; });
  }

  private newSeries(labels: Pick<Aggregate, 'service' | 'method' | 'route' | 'statusClass'>, overflow: boolean): Series {
    return {
      service: labels.service,
      method: labels.method,
      route: labels.route,
      statusClass: labels.statusClass,
      overflow,
      startMs: this.now(),
      count: 0,
      errors: 0,
      timed: 0,
      sum: 0,
      bucketCounts: new Array(this.options.buckets.length + 1).fill(0),
    };
  }

  private addRoute(aggregate: Aggregate): void {
    const key = `${aggregate.service}\u001f${aggregate.method}\u001f${aggregate.route}`;
    let stats = this.routes.get(key);
    if (!stats) {
      if (this.routes.size >= this.options.maxRoutes) {
        if (this.routesDropped === 0) this.options.onLimit?.('routes', this.options.maxRoutes);
        this.routesDropped += aggregate.count;
        return;
      }
      stats = { service: aggregate.service, method: aggregate.method, route: aggregate.route, firstMs: aggregate.firstMs, lastMs: aggregate.lastMs, count: 0, errors: 0 };
      this.routes.set(key, stats);
    }
    stats.count += aggregate.count;
    stats.errors += aggregate.errors;
    stats.firstMs = Math.min(stats.firstMs, aggregate.firstMs);
    stats.lastMs = Math.max(stats.lastMs, aggregate.lastMs);
  }
}
