import { endpoint, integer, object, string } from '../../core/config/schema.js';

export interface OtlpHttpConfig {
  /** Listen address; default 127.0.0.1:4318. */
  endpoint: string;
  /** Largest request body accepted, in bytes, after decompression; default 20 MiB. */
  max_request_body_size: number;
  traces_url_path: string;
  logs_url_path: string;
  metrics_url_path: string;
}

export interface OtlpReceiverConfig {
  /** A protocol runs only when its key is present; `http:` with no value takes the defaults. */
  protocols: {
    http?: OtlpHttpConfig;
  };
}

export function defaultHttpConfig(): OtlpHttpConfig {
  return {
    endpoint: '127.0.0.1:4318',
    max_request_body_size: 20 * 1024 * 1024,
    traces_url_path: '/v1/traces',
    logs_url_path: '/v1/logs',
    metrics_url_path: '/v1/metrics',
  };
}

export function createDefaultConfig(): OtlpReceiverConfig {
  return { protocols: {} };
}

const urlPath = () => string({ check: (text) => (text.startsWith('/') ? undefined : `must start with "/", got ${JSON.stringify(text)}`) });

export const schema = object({
  protocols: object({
    http: object({
      endpoint: endpoint(),
      max_request_body_size: integer({ min: 1 }),
      traces_url_path: urlPath(),
      logs_url_path: urlPath(),
      metrics_url_path: urlPath(),
    }),
  }, { required: [] }),
}, { required: ['protocols'] });

/** Fills in the defaults of each enabled protocol. */
export function resolveProtocols(config: OtlpReceiverConfig): { http?: OtlpHttpConfig } {
  return {
    http: config.protocols.http ? { ...defaultHttpConfig(), ...config.protocols.http } : undefined,
  };
}
