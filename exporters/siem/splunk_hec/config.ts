import { object, string, url, integer } from '../../../core/config/schema.js';
import { defaultHelperConfig, helperSchemaFields, validateHelperConfig, type ExporterHelperConfig } from '../../helper/config.js';
import { clientTlsSchema, defaultClientTls, type ClientTlsConfig } from '../../helper/http.js';

export interface SplunkHecExporterConfig extends ExporterHelperConfig {
  /**
   * The HTTP Event Collector URL, such as `https://splunk.example.com:8088`. When its path is `/`,
   * the event endpoint `/services/collector/event` is used. Required.
   */
  endpoint: string;
  /** The HEC token, sent as `Authorization: Splunk <token>`. Required; never logged. */
  token: string;
  /** The index events go to; empty (the default) lets the token's default index apply. */
  index: string;
  /** Default `watchpost:finding`. */
  sourcetype: string;
  /** Default `watchpost`. */
  source: string;
  /** The `host` field of each event; empty (the default) uses this machine's hostname. */
  host: string;
  /**
   * A channel GUID sent as `X-Splunk-Request-Channel`, which HEC requires when indexer
   * acknowledgment is on for the token. Empty (the default) sends none.
   */
  channel: string;
  /** `gzip` (the default) or `none`. */
  compression: 'gzip' | 'none';
  /** The largest request body before compression, in bytes; events are split across requests to stay below it. Default 2 MiB. */
  max_content_length: number;
  tls: ClientTlsConfig;
}

export function createDefaultConfig(): SplunkHecExporterConfig {
  const helper = defaultHelperConfig();
  helper.sending_queue.batch = { enabled: true, flush_timeout: 1000, min_size: 512, max_size: 0, max_bytes: 0 };
  return {
    ...helper,
    endpoint: '',
    token: '',
    index: '',
    sourcetype: 'watchpost:finding',
    source: 'watchpost',
    host: '',
    channel: '',
    compression: 'gzip',
    max_content_length: 2 * 1024 * 1024,
    tls: defaultClientTls(),
  };
}

export const schema = object({
  endpoint: url(),
  token: string(),
  index: string({ allowEmpty: true }),
  sourcetype: string(),
  source: string(),
  host: string({ allowEmpty: true }),
  channel: string({ allowEmpty: true }),
  compression: string({ enum: ['gzip', 'none'] as const }),
  max_content_length: integer({ min: 1024 }),
  tls: clientTlsSchema,
  ...helperSchemaFields,
}, { required: ['endpoint', 'token'] });

export { validateHelperConfig as validate };
