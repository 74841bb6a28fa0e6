import { object, string } from '../../core/config/schema.js';
import { defaultHelperConfig, helperSchemaFields, type ExporterHelperConfig } from '../helper/config.js';

export interface FileExporterConfig extends ExporterHelperConfig {
  /** The file to append JSON lines to; its directory is created when missing. */
  path: string;
}

export function createDefaultConfig(): FileExporterConfig {
  return { ...defaultHelperConfig(), path: '' };
}

export const schema = object({
  path: string(),
  ...helperSchemaFields,
}, { required: ['path'] });
