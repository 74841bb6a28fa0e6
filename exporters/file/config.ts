import { object, string } from '../../core/config/schema.js';
import { defaultHelperConfig, helperSchemaFields, type ExporterHelperConfig } from '../helper/config.js';

export interface FileExporterConfig extends ExporterHelperConfig {
  /** The file to append lines to; its directory is created when missing. */
  path: string;
  /**
   * `otlp_json`: one OTLP/JSON export request per line. `text`: one line per log record with its
   * body; traces and metrics are still written as OTLP/JSON. Findings are one JSON object per
   * line in both. Default `otlp_json`.
   */
  format: 'otlp_json' | 'text';
}

export function createDefaultConfig(): FileExporterConfig {
  return { ...defaultHelperConfig(), path: '', format: 'otlp_json' };
}

export const schema = object({
  path: string(),
  format: string({ enum: ['otlp_json', 'text'] as const }),
  ...helperSchemaFields,
}, { required: ['path'] });
