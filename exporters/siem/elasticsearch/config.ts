import { list, object, string, url } from '../../../core/config/schema.js';
import { defaultHelperConfig, helperSchemaFields, validateHelperConfig, type ExporterHelperConfig } from '../../helper/config.js';
import { clientTlsSchema, defaultClientTls, type ClientTlsConfig } from '../../helper/http.js';

export interface ElasticsearchExporterConfig extends ExporterHelperConfig {
  /** Cluster URLs, such as `https://es1.example.com:9200`; a failed attempt moves to the next one. Required. */
  endpoints: string[];
  /**
   * The data stream (or index) findings go to. Default `logs-watchpost.findings-default`, a name in
   * the `logs-<dataset>-<namespace>` pattern that Elasticsearch's built-in index template turns
   * into a data stream. Documents are written with the `create` action, which data streams require.
   */
  index: string;
  /** Basic authentication; empty (the default) sends none. */
  user: string;
  password: string;
  /** An API key as Elasticsearch returns it encoded (base64 of `id:key`), sent as `Authorization: ApiKey …`. */
  api_key: string;
  /** An ingest pipeline to run on each document; empty (the default) runs none. */
  pipeline: string;
  /** `none` (the default) or `gzip`. */
  compression: 'gzip' | 'none';
  tls: ClientTlsConfig;
}

export function createDefaultConfig(): ElasticsearchExporterConfig {
  const helper = defaultHelperConfig();
  helper.sending_queue.batch = { enabled: true, flush_timeout: 1000, min_size: 512, max_size: 5000, max_bytes: 5 * 1024 * 1024 };
  return {
    ...helper,
    endpoints: [],
    index: 'logs-watchpost.findings-default',
    user: '',
    password: '',
    api_key: '',
    pipeline: '',
    compression: 'none',
    tls: defaultClientTls(),
  };
}

export const schema = object({
  endpoints: list(url(), { minItems: 1 }),
  index: string(),
  user: string({ allowEmpty: true }),
  password: string({ allowEmpty: true }),
  api_key: string({ allowEmpty: true }),
  pipeline: string({ allowEmpty: true }),
  compression: string({ enum: ['gzip', 'none'] as const }),
  tls: clientTlsSchema,
  ...helperSchemaFields,
}, { required: ['endpoints'] });

export function validate(config: ElasticsearchExporterConfig, report: (message: string, path?: string) => void): void {
  validateHelperConfig(config, report);
  if (config.api_key && (config.user || config.password)) report('set either api_key or user and password, not both', 'api_key');
  if (Boolean(config.user) !== Boolean(config.password)) report('user and password must be set together', config.user ? 'password' : 'user');
}
