import type { IKeyValue, ILogRecord } from '../../core/otlp/codec.js';
import { keyValue } from '../../core/otlp/attributes.js';
import type { LineContext, LineParser, LineParseResult, WorkerModule } from '../../core/pool/worker-api.js';
import { FORMAT_NAMES, JSON_FORMATS, fieldParser, type FieldParser, type FormatOptions } from '../helper/accesslog/formats.js';
import { accessLogRecord, unparsedRecord } from '../helper/accesslog/record.js';
import type { AccessFields } from '../helper/accesslog/fields.js';

/*
 * Worker-thread side of the gatewaylog receiver: the access-log line parsers. Each parser takes a
 * chunk of lines and returns one OTLP logs request with a record per line, parsed or not.
 */

/** Entries read from one JSON array line at most (an HTTP push body); the rest become one raw record. */
const MAX_ARRAY_ENTRIES = 10_000;

export function lineParser(format: string, options: FormatOptions): LineParser {
  const parse = fieldParser(format, options);
  const arrays = JSON_FORMATS.includes(format);
  return (lines, context) => buildRequest(lines, context, format, parse, arrays);
}

function buildRequest(lines: string[], context: LineContext, format: string, parse: FieldParser, arrays: boolean): LineParseResult {
  const extra: IKeyValue[] = [];
  for (const [key, value] of Object.entries(context.attributes ?? {})) extra.push(keyValue(key, value));
  const records: ILogRecord[] = [];
  let failed = 0;
  const read = (line: string) => {
    const fields = safeParse(parse, line);
    if (fields) {
      fields.format ??= format;
      records.push(accessLogRecord(line, fields, context.observedMs, extra));
    } else {
      failed++;
      records.push(unparsedRecord(line, context.observedMs, extra, `line does not match the ${format} format`));
    }
  };
  for (const line of lines) {
    const entries = arrays && line[0] === '[' ? arrayEntries(line) : undefined;
    if (entries) entries.forEach(read);
    else read(line);
  }
  const resource = { attributes: Object.entries(context.resource ?? {}).map(([key, value]) => keyValue(key, value)) };
  return {
    request: { resourceLogs: [{ resource, scopeLogs: [{ scope: { name: 'watchpost/gatewaylog' }, logRecords: records }] }] },
    failed,
  };
}

/** A parser error on one line must not cost the chunk; the line is then kept raw and counted. */
function safeParse(parse: FieldParser, line: string): AccessFields | undefined {
  try {
    return parse(line);
  } catch {
    return undefined;
  }
}

/** Splits a JSON array line into its elements, each as JSON text; undefined when it is not an array. */
function arrayEntries(line: string): string[] | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (!Array.isArray(value) || value.length > MAX_ARRAY_ENTRIES) return undefined;
    return value.map((entry) => JSON.stringify(entry));
  } catch {
    return undefined;
  }
}

export const parsers: WorkerModule['parsers'] = Object.fromEntries(
  FORMAT_NAMES.map((format) => [format, (options: unknown) => lineParser(format, (options ?? {}) as FormatOptions)]),
);
