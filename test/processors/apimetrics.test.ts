import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { apiMetricsFactory } from '../../processors/apimetrics/factory.js';
import { ApiAggregator } from '../../processors/apimetrics/aggregator.js';
import { DEFAULT_BUCKETS, type ApiMetricsConfig } from '../../processors/apimetrics/config.js';
import { toOtlp, toPrometheus } from '../../processors/apimetrics/export.js';
import { loadOpenApi } from '../../processors/apimetrics/openapi.js';
import { canonicalRoute, isIdLike, templateFromPath } from '../../processors/apimetrics/routes.js';
import { bucketIndex, Observer } from '../../processors/apimetrics/worker.js';
import { AdminServer } from '../../core/admin/server.js';
import { silentLogger } from '../../core/logger.js';
import { countItems, decodeRequest, encodeRequest, type ExportMetricsServiceRequest } from '../../core/otlp/codec.js';
import { waitFor } from '../helpers/wait.js';
import { CaptureConsumer, encodedBatch, logs, logsBatch, ProcessorHarness, record, span, testHost, traces, tracesBatch } from './helpers.js';

const OPENAPI = fileURLToPath(new URL('../fixtures/apimetrics/openapi.yaml', import.meta.url));
const T0 = Date.UTC(2026, 11, 4, 10, 0, 0);

function observer(overrides: Partial<ApiMetricsConfig> = {}, openapi?: string) {
  return new Observer({ buckets: overrides.buckets ?? DEFAULT_BUCKETS, routeFromPath: overrides.route_from_path ?? true, errorStatusMin: overrides.error_status_min ?? 500, templates: openapi ? loadOpenApi(openapi).templates : [] });
}

/** Builds a SERVER span of a request with an exact duration. */
function request(route: string, status: number, seconds: number, extra: Record<string, string | number> = {}) {
  return span({ traceId: 'ab'.repeat(16), startMs: T0, durationNanos: Math.round(seconds * 1e9), attributes: { 'http.request.method': 'GET', 'url.path': route.replace('{id}', '7'), 'http.route': route, 'http.response.status_code': status, ...extra } });
}

describe('apimetrics aggregation', () => {
  it('counts requests, errors and buckets exactly', () => {
    const durations = [0.004, 0.005, 0.0051, 0.1, 0.3, 12];
    const statuses = [200, 200, 404, 500, 503, 200];
    const result = observer().observe('traces', traces({ shop: durations.map((seconds, index) => request('/users/{id}', statuses[index], seconds)) }));

    const byClass = Object.fromEntries(result.aggregates.map((aggregate) => [aggregate.statusClass, aggregate]));
    expect(Object.keys(byClass).sort()).toEqual(['2xx', '4xx', '5xx']);
    expect(byClass['2xx'].count).toBe(3);
    expect(byClass['2xx'].errors).toBe(0);
    expect(byClass['5xx'].count).toBe(2);
    expect(byClass['5xx'].errors).toBe(2);
    expect(byClass['2xx'].bucketCounts).toEqual([2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(byClass['4xx'].bucketCounts).toEqual([0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(byClass['5xx'].bucketCounts).toEqual([0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    expect(byClass['2xx'].sum).toBeCloseTo(12.009, 9);
    expect(byClass['2xx'].service).toBe('shop');
    expect(byClass['2xx'].route).toBe('/users/{id}');
    expect(byClass['2xx'].method).toBe('GET');
  });

  it('puts a value on a bound into that bucket', () => {
    expect(bucketIndex([1, 2, 3], 0)).toBe(0);
    expect(bucketIndex([1, 2, 3], 1)).toBe(0);
    expect(bucketIndex([1, 2, 3], 1.0001)).toBe(1);
    expect(bucketIndex([1, 2, 3], 3)).toBe(2);
    expect(bucketIndex([1, 2, 3], 3.5)).toBe(3);
  });

  it('counts spans with status ERROR as errors', () => {
    const result = observer().observe('traces', traces({ shop: [span({ traceId: '01'.repeat(16), status: 2, attributes: { 'http.request.method': 'GET', 'http.route': '/x', 'http.response.status_code': 200 } })] }));
    expect(result.aggregates[0].errors).toBe(1);
  });

  it('ignores spans that are not SERVER spans', () => {
    const result = observer().observe('traces', traces({ shop: [span({ traceId: '01'.repeat(16), kind: 3, attributes: { 'http.request.method': 'GET', 'http.route': '/x' } })] }));
    expect(result.aggregates).toEqual([]);
  });

  it('reads access-log records with their request time', () => {
    const records = [
      record({ attributes: { 'http.request.method': 'GET', 'url.path': '/users/42', 'http.response.status_code': 200, 'http.server.request.duration': 0.02 } }),
      record({ attributes: { 'http.request.method': 'get', 'url.path': '/users/43', 'http.response.status_code': 502 } }),
      record({ body: 'not an access log line' }),
    ];
    const result = observer().observe('logs', logs(records, 'edge'));
    expect(result.aggregates.map((aggregate) => [aggregate.route, aggregate.statusClass, aggregate.count, aggregate.timed, aggregate.errors])).toEqual([
      ['/users/{id}', '2xx', 1, 1, 0],
      ['/users/{id}', '5xx', 1, 0, 1],
    ]);
    expect(result.aggregates[0].bucketCounts[2]).toBe(1);
  });

  it('maps unknown methods to _OTHER', () => {
    const result = observer().observe('traces', traces({ shop: [span({ traceId: '01'.repeat(16), attributes: { 'http.request.method': 'BREW', 'http.route': '/pot' } })] }));
    expect(result.aggregates[0].method).toBe('_OTHER');
  });

  it('matches paths against OpenAPI templates', () => {
    const seen = observer({}, OPENAPI);
    const route = (path: string) => seen.route({ path });
    expect(route('/api/v1/users/42/orders')).toBe('/api/v1/users/{userId}/orders');
    expect(route('/api/v1/users/me')).toBe('/api/v1/users/me');
    expect(route('/users/alice')).toBe('/users/{userId}');
    expect(route('/api/v2/users/42')).toBe('/api/v2/users/{id}');
  });

  it('keeps ordinary path segments', () => {
    for (const segment of ['users', 'v1', 'api', 'healthz', 'orders', 'me', 'deadbeef', 'product-123', 'en-US', 'search.json']) expect(isIdLike(segment), segment).toBe(false);
    for (const segment of ['42', '0', '550e8400-e29b-41d4-a716-446655440000', 'a1b2c3d4', '01HGW2N7QZ8K3VXYZ9ABCDEF12', 'dGhpcyBpcyBhIHRva2VuMTIz']) expect(isIdLike(segment), segment).toBe(true);
    expect(templateFromPath('/v1/users/42/orders/550e8400-e29b-41d4-a716-446655440000?x=1')).toBe('/v1/users/{id}/orders/{id}');
    expect(templateFromPath('/cart;jsessionid=ABCDEF0123456789/items')).toBe('/cart/items');
    expect(canonicalRoute('/users/:id/orders')).toBe(canonicalRoute('/users/{userId}/orders'));
  });

  it('counts past max_series into one overflow series', () => {
    const aggregator = new ApiAggregator({ buckets: [1], maxSeries: 2, maxRoutes: 10, now: () => T0 });
    const limits: string[] = [];
    const limited = new ApiAggregator({ buckets: [1], maxSeries: 2, maxRoutes: 10, now: () => T0, onLimit: (what) => limits.push(what) });
    const result = observer({ buckets: [1] }).observe('traces', traces({ shop: ['/a', '/b', '/c', '/d', '/d'].map((route) => request(route, 200, 0.5)) }));
    aggregator.record(result);
    limited.record(result);
    limited.record(result);

    const series = aggregator.allSeries();
    expect(series.map((entry) => [entry.route, entry.overflow, entry.count])).toEqual([['/a', false, 1], ['/b', false, 1], ['', true, 3]]);
    expect(aggregator.overflowed).toBe(3);
    expect(limits).toEqual(['series']);
  });

  it('bounds the inventory at max_routes', () => {
    const aggregator = new ApiAggregator({ buckets: [1], maxSeries: 100, maxRoutes: 1 });
    aggregator.record(observer().observe('traces', traces({ shop: [request('/a', 200, 0.1), request('/b', 200, 0.1)] })));
    const inventory = aggregator.inventory();
    expect(inventory.routes.map((entry) => entry.route)).toEqual(['/a']);
    expect(inventory.routes_dropped).toBe(1);
  });

  it('marks inventory routes documented in OpenAPI', () => {
    const openapi = loadOpenApi(OPENAPI);
    const aggregator = new ApiAggregator({ buckets: [1], maxSeries: 100, maxRoutes: 100, openapi });
    const seen = observer({}, OPENAPI);
    aggregator.record(seen.observe('traces', traces({ shop: [
      span({ traceId: '01'.repeat(16), startMs: T0, attributes: { 'http.request.method': 'GET', 'url.path': '/api/v1/users/7', 'http.response.status_code': 200 } }),
      span({ traceId: '02'.repeat(16), startMs: T0 + 60_000, attributes: { 'http.request.method': 'GET', 'url.path': '/api/v1/users/8', 'http.response.status_code': 500 } }),
      span({ traceId: '03'.repeat(16), startMs: T0, attributes: { 'http.request.method': 'POST', 'url.path': '/api/v1/users/7', 'http.response.status_code': 405 } }),
      span({ traceId: '04'.repeat(16), startMs: T0, attributes: { 'http.request.method': 'GET', 'http.route': '/internal/debug', 'http.response.status_code': 200 } }),
    ] })));

    const inventory = aggregator.inventory();
    expect(inventory.routes).toEqual([
      { service: 'shop', method: 'GET', route: '/api/v1/users/{userId}', first_seen: '2026-12-04T10:00:00.000Z', last_seen: '2026-12-04T10:01:00.000Z', request_count: 2, error_count: 1, error_share: 0.5, in_openapi: true },
      { service: 'shop', method: 'POST', route: '/api/v1/users/{userId}', first_seen: '2026-12-04T10:00:00.000Z', last_seen: '2026-12-04T10:00:00.000Z', request_count: 1, error_count: 0, error_share: 0, in_openapi: false },
      { service: 'shop', method: 'GET', route: '/internal/debug', first_seen: '2026-12-04T10:00:00.000Z', last_seen: '2026-12-04T10:00:00.000Z', request_count: 1, error_count: 0, error_share: 0, in_openapi: false },
    ]);
    expect(inventory.documented_not_seen).toContainEqual({ method: 'DELETE', route: '/api/v1/users/{userId}' });
    expect(inventory.documented_not_seen).toContainEqual({ method: 'GET', route: '/api/v1/health' });
    expect(inventory.documented_not_seen).not.toContainEqual({ method: 'GET', route: '/api/v1/users/{userId}' });
  });
});

describe('apimetrics export', () => {
  const aggregator = new ApiAggregator({ buckets: [0.1, 1], maxSeries: 100, maxRoutes: 100, now: () => T0 });
  const seen = observer({ buckets: [0.1, 1] });
  aggregator.record(seen.observe('traces', traces({ shop: [request('/a', 200, 0.05), request('/a', 200, 0.5), request('/a', 500, 2)], search: [request('/q', 200, 0.1)] })));

  it('builds cumulative OTLP metrics per service', () => {
    const request = toOtlp(aggregator.allSeries(), [0.1, 1], T0 + 1000);
    const decoded = decodeRequest('metrics', encodeRequest('metrics', request)) as ExportMetricsServiceRequest;
    expect(countItems('metrics', decoded)).toBe(3 + 3 + 3);
    const shop = decoded.resourceMetrics?.find((resource) => resource.resource?.attributes?.[0].value?.stringValue === 'shop');
    const metrics = shop?.scopeMetrics?.[0].metrics ?? [];
    expect(metrics.map((metric) => metric.name)).toEqual(['watchpost.api.requests', 'watchpost.api.errors', 'watchpost.api.request.duration']);
    const requests = metrics[0].sum?.dataPoints ?? [];
    expect(requests.map((point) => Number(point.asInt))).toEqual([2, 1]);
    expect(metrics[0].sum?.isMonotonic).toBe(true);
    expect(metrics[0].sum?.aggregationTemporality).toBe(2);
    const histogram = metrics[2].histogram?.dataPoints?.[0];
    expect(histogram?.bucketCounts?.map(Number)).toEqual([1, 1, 0]);
    expect(histogram?.explicitBounds).toEqual([0.1, 1]);
    expect(Number(histogram?.count)).toBe(2);
    expect(requests[0].attributes?.map((attribute) => [attribute.key, attribute.value?.stringValue])).toEqual([
      ['http.route', '/a'], ['http.request.method', 'GET'], ['http.response.status_class', '2xx'],
    ]);
  });

  it('renders Prometheus text with cumulative buckets', () => {
    const text = toPrometheus([{ processor: 'apimetrics', series: aggregator.allSeries(), buckets: [0.1, 1] }]);
    const labels = 'service="shop",route="/a",method="GET",status_class="2xx",processor="apimetrics"';
    expect(text).toContain(`watchpost_api_requests_total{${labels}} 2`);
    expect(text).toContain(`watchpost_api_errors_total{service="shop",route="/a",method="GET",status_class="5xx",processor="apimetrics"} 1`);
    expect(text).toContain(`watchpost_api_request_duration_seconds_bucket{${labels},le="0.1"} 1`);
    expect(text).toContain(`watchpost_api_request_duration_seconds_bucket{${labels},le="1"} 2`);
    expect(text).toContain(`watchpost_api_request_duration_seconds_bucket{${labels},le="+Inf"} 2`);
    expect(text).toContain(`watchpost_api_request_duration_seconds_count{${labels}} 2`);
    expect(text.match(/^# TYPE watchpost_api_requests_total counter$/gm)).toHaveLength(1);
  });
});

describe('apimetrics connector', () => {
  const harness = new ProcessorHarness(apiMetricsFactory.workerModules);
  const admin = new AdminServer('127.0.0.1:0', silentLogger());
  beforeAll(() => admin.start());
  afterAll(async () => {
    await admin.shutdown();
    await harness.close();
  });

  it('emits metrics, passes batches on and serves the inventory', async () => {
    const config = harness.config(apiMetricsFactory, { interval: 100, openapi: OPENAPI });
    const metricsOut = new CaptureConsumer();
    const shared = harness.createShared(apiMetricsFactory, { config, outputs: { metrics: metricsOut } });
    const next = new CaptureConsumer();
    const tracesProcessor = harness.create(apiMetricsFactory, { config, next, shared: shared.value });
    const logsProcessor = harness.create(apiMetricsFactory, { config, next, shared: shared.value, signal: 'logs' });
    await shared.start(testHost(admin));

    await tracesProcessor.consume(encodedBatch(tracesBatch(traces({ shop: [request('/api/v1/users/{userId}', 200, 0.01), request('/api/v1/users/{userId}', 503, 0.2)] }))));
    await logsProcessor.consume(encodedBatch(logsBatch(logs([record({ attributes: { 'http.request.method': 'GET', 'url.path': '/api/v1/health', 'http.response.status_code': 200 } })]))));
    expect(next.items).toBe(3);

    const batch = await waitFor(() => metricsOut.batches.at(-1), 5000, 'an OTLP metrics batch');
    expect(batch.signal).toBe('metrics');
    const response = await fetch(`http://${admin.address()}/v1/inventory`);
    const body = await response.json() as { processors: { processor: string; routes: { route: string; in_openapi: boolean; request_count: number }[] }[] };
    expect(response.status).toBe(200);
    expect(body.processors[0].processor).toBe('apimetrics');
    expect(body.processors[0].routes.map((entry) => [entry.route, entry.request_count, entry.in_openapi])).toEqual([
      ['/api/v1/health', 1, true],
      ['/api/v1/users/{userId}', 2, true],
    ]);
    const filtered = await (await fetch(`http://${admin.address()}/v1/inventory?service=shop`)).json() as typeof body;
    expect(filtered.processors[0].routes).toHaveLength(1);
    expect(harness.registry.render()).toContain('watchpost_api_requests_total{service="shop",route="/api/v1/users/{userId}",method="GET",status_class="5xx",processor="apimetrics"} 1');

    await shared.shutdown();
  });

  it('reports an unreadable OpenAPI document at validation', () => {
    const problems: string[] = [];
    apiMetricsFactory.validate?.({ ...apiMetricsFactory.createDefaultConfig(), openapi: '/nonexistent/openapi.yaml' }, (message) => problems.push(message));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^cannot read OpenAPI document \/nonexistent\/openapi\.yaml: ENOENT/);
  });

  it('rejects buckets that are not ascending', () => {
    const problems: string[] = [];
    apiMetricsFactory.validate?.({ ...apiMetricsFactory.createDefaultConfig(), buckets: [1, 0.5] }, (message) => problems.push(message));
    expect(problems).toEqual(['buckets must be strictly ascending, but 0.5 follows 1']);
  });
});
