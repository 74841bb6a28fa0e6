import type { IKeyValue, ILogRecord } from '../../core/otlp/codec.js';
import { keyValue } from '../../core/otlp/attributes.js';
import type { LineContext, LineParser, LineParseResult, WorkerModule } from '../../core/pool/worker-api.js';
import { compileNginxFormat, nginxFields, NGINX_COMBINED, NGINX_MAIN } from './formats/nginx.js';
import { accessLogRecord, unparsedRecord } from './record.js';
import type { AccessFields } from './formats/fields.js';

/*
 * Worker-thread side of the gatewaylog receiver: the access-log parsers. Each parser takes a
 * chunk of lines and returns one OTLP logs request.
 */

export interface ParserOptions {
  /** nginx `log_format` string for the `nginx` format. */
  log_format?: string;
}

type FieldParser = (line: string) => AccessFields | undefined;

function nginxParser(format: string): FieldParser {
  const split = compileNginxFormat(format);
  return (line) => {
    const values = split(line);
    return values ? nginxFields(values) : undefined;
  };
}

/** Tries parsers in order and returns the first result. */
function firstOf(...parsers: FieldParser[]): FieldParser {
  return (line) => {
    for (const parse of parsers) {
      const fields = parse(line);
      if (fields) return fields;
    }
    return undefined;
  };
}

/** Field parsers by format name; each returns undefined for a line it cannot read. */
export const FORMATS: Record<string, (options: ParserOptions) => FieldParser> = {
  // Many distributions log nginx's `main` format: combined plus the X-Forwarded-For header.
  nginx_combined: () => firstOf(nginxParser(NGINX_MAIN), nginxParser(NGINX_COMBINED)),
  nginx: (options) => nginxParser(options.log_format ?? NGINX_COMBINED),
};

export function lineParser(format: string, options: ParserOptions): LineParser {
  const makeParser = FORMATS[format];
  if (!makeParser) throw new Error(`unknown access-log format "${format}"`);
  const parse = makeParser(options);
  const formatAttribute = keyValue('log.format', format);
  return (lines, context) => buildRequest(lines, context, parse, formatAttribute);
}

function buildRequest(lines: string[], context: LineContext, parse: FieldParser, formatAttribute: IKeyValue): LineParseResult {
  const extra: IKeyValue[] = [formatAttribute];
  for (const [key, value] of Object.entries(context.attributes ?? {})) extra.push(keyValue(key, value));
  const records: ILogRecord[] = [];
  let failed = 0;
  for (const line of lines) {
    let fields: AccessFields | undefined;
    try {
      fields = parse(line);
    } catch {
      fields = undefined;
    }
    if (fields) {
      records.push(accessLogRecord(line, fields, context.observedMs, extra));
    } else {
      failed++;
      records.push(unparsedRecord(line, context.observedMs, extra, 'line does not match the format'));
    }
  }
  const resource = { attributes: Object.entries(context.resource ?? {}).map(([key, value]) => keyValue(key, value)) };
  return {
    request: { resourceLogs: [{ resource, scopeLogs: [{ scope: { name: 'watchpost/gatewaylog' }, logRecords: records }] }] },
    failed,
  };
}

export const parsers: WorkerModule['parsers'] = Object.fromEntries(
  Object.keys(FORMATS).map((format) => [format, (options: unknown) => lineParser(format, (options ?? {}) as ParserOptions)]),
);
