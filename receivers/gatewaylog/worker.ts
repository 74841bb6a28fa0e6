import type { IKeyValue, ILogRecord } from '../../core/otlp/codec.js';
import { keyValue } from '../../core/otlp/attributes.js';
import type { LineContext, LineParser, LineParseResult, WorkerModule } from '../../core/pool/worker-api.js';
import { ACCESS_LOG_FORMATS, fieldParser, type FieldParser, type FormatOptions } from '../helper/accesslog/formats.js';
import { accessLogRecord, unparsedRecord } from '../helper/accesslog/record.js';
import type { AccessFields } from '../helper/accesslog/fields.js';

/*
 * Worker-thread side of the gatewaylog receiver: the access-log line parsers. Each parser takes a
 * chunk of lines and returns one OTLP logs request.
 */

export function lineParser(format: string, options: FormatOptions): LineParser {
  const parse = fieldParser(format, options);
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
  Object.keys(ACCESS_LOG_FORMATS).map((format) => [format, (options: unknown) => lineParser(format, (options ?? {}) as FormatOptions)]),
);
