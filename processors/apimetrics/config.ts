import { boolean, duration, integer, list, number, object, string } from '../../core/config/schema.js';

export interface ApiMetricsConfig {
  /** How often the RED metrics go to the metrics pipelines that list this processor as a receiver, in milliseconds. Default 60 s. */
  interval: number;
  /** Upper bounds of the duration histogram's buckets, in seconds, ascending. Default: the OpenTelemetry HTTP semantic conventions' advice. */
  buckets: number[];
  /** Series each metric keeps at most; further series are counted into one overflow series. Default 2000. */
  max_series: number;
  /** Routes the API inventory keeps at most; further routes are counted but not listed. Default 10000. */
  max_routes: number;
  /** An OpenAPI 3 or Swagger 2 document (YAML or JSON) to compare routes with; empty means none. Default empty. */
  openapi: string;
  /** When a request has no `http.route`, derive one from the path: the OpenAPI template it matches, or the path with id-like segments replaced by `{id}`. Default true. */
  route_from_path: boolean;
  /** Status codes from this one up count as errors, as do spans with status ERROR. Default 500. */
  error_status_min: number;
}

/** Bucket bounds the semantic conventions advise for `http.server.request.duration`, in seconds. */
export const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export function createDefaultConfig(): ApiMetricsConfig {
  return {
    interval: 60_000,
    buckets: [...DEFAULT_BUCKETS],
    max_series: 2000,
    max_routes: 10_000,
    openapi: '',
    route_from_path: true,
    error_status_min: 500,
  };
}

export const schema = object({
  interval: duration({ min: 100 }),
  buckets: list(number({ min: 0 }), { minItems: 1 }),
  max_series: integer({ min: 1 }),
  max_routes: integer({ min: 1 }),
  openapi: string({ allowEmpty: true }),
  route_from_path: boolean(),
  error_status_min: integer({ min: 100, max: 600 }),
});

export function validateConfig(config: ApiMetricsConfig, report: (message: string, path?: string) => void): void {
  for (let i = 1; i < config.buckets.length; i++) {
    if (config.buckets[i] <= config.buckets[i - 1]) {
      report(`buckets must be strictly ascending, but ${config.buckets[i]} follows ${config.buckets[i - 1]}`, 'buckets');
      return;
    }
  }
}
