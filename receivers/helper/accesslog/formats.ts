import { compileNginxFormat, nginxFields, NGINX_COMBINED, NGINX_MAIN } from './nginx.js';
import type { AccessFields } from './fields.js';

/** Options of the access-log formats; each format reads the ones it needs. */
export interface FormatOptions {
  /** nginx `log_format` string, for the `nginx` format. */
  log_format?: string;
}

/** Reads one line into access fields; undefined when the line does not match the format. */
export type FieldParser = (line: string) => AccessFields | undefined;

function nginxParser(format: string): FieldParser {
  const split = compileNginxFormat(format);
  return (line) => {
    const values = split(line);
    return values ? nginxFields(values) : undefined;
  };
}

/** Tries parsers in order and returns the first result. */
export function firstOf(...parsers: FieldParser[]): FieldParser {
  return (line) => {
    for (const parse of parsers) {
      const fields = parse(line);
      if (fields) return fields;
    }
    return undefined;
  };
}

/**
 * Access-log formats by name, shared by every receiver that reads access logs (files, HTTP
 * push, syslog). Each entry builds a field parser from the format's options.
 */
export const ACCESS_LOG_FORMATS: Record<string, (options: FormatOptions) => FieldParser> = {
  // Many distributions log nginx's `main` format: combined plus the X-Forwarded-For header.
  nginx_combined: () => firstOf(nginxParser(NGINX_MAIN), nginxParser(NGINX_COMBINED)),
  nginx: (options) => nginxParser(options.log_format ?? NGINX_COMBINED),
};

export function fieldParser(format: string, options: FormatOptions = {}): FieldParser {
  const make = ACCESS_LOG_FORMATS[format];
  if (!make) throw new Error(`unknown access-log format "${format}"; known formats: ${Object.keys(ACCESS_LOG_FORMATS).join(', ')}`);
  return make(options);
}
