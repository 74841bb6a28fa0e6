import Long from 'long';
import { describe, expect, it } from 'vitest';
import { countItems, encodeRequest, decodeRequest, type ExportMetricsServiceRequest } from '../../../core/otlp/codec.js';
import { exportResponseToJson, OtlpJsonError, parseOtlpJson, quoteLargeIntegers, toOtlpJson } from '../../../core/otlp/json.js';
import { Rejections } from '../../../core/otlp/validate.js';

function logRecordJson(record: Record<string, unknown>): string {
  return JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [record] }] }] });
}

describe('quoteLargeIntegers', () => {
  it('quotes integers of 16 or more digits', () => {
    expect(quoteLargeIntegers('{"a":12345678901234567,"b":-1234567890123456789}')).toBe('{"a":"12345678901234567","b":"-1234567890123456789"}');
  });

  it('leaves strings, escaped quotes and short numbers alone', () => {
    const text = '{"s":"x\\"12345678901234567","n":123,"f":1234567890123456.5,"e":1e300}';

    expect(quoteLargeIntegers(text)).toBe(text);
  });
});

describe('parseOtlpJson', () => {
  it('keeps a fixed64 above 2^53 exact as a bare number', () => {
    const request = parseOtlpJson('logs', '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":1700000000000000001}]}]}]}');

    expect(toOtlpJson('logs', request)).toEqual({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '1700000000000000001' }] }] }] });
  });

  it('rejects values outside their type naming the field', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ timeUnixNano: '18446744073709551616' }, 'logRecords[0].timeUnixNano: value 18446744073709551616 is out of range for fixed64'],
      [{ timeUnixNano: '-1' }, 'logRecords[0].timeUnixNano: value -1 is out of range for fixed64'],
      [{ severityNumber: 2 ** 31 }, 'logRecords[0].severityNumber: invalid SeverityNumber value 2147483648'],
      [{ droppedAttributesCount: -1 }, 'logRecords[0].droppedAttributesCount: value -1 is out of range for uint32'],
      [{ flags: 4294967296 }, 'logRecords[0].flags: value 4294967296 is out of range for fixed32'],
      [{ attributes: [{ key: 'n', value: { intValue: '9223372036854775808' } }] }, 'attributes[0].value.intValue: value 9223372036854775808 is out of range for int64'],
      [{ timeUnixNano: 1.5 }, 'logRecords[0].timeUnixNano: must be an integer, got 1.5'],
      [{ timeUnixNano: '1e9' }, 'logRecords[0].timeUnixNano: must be a fixed64 as a decimal string or a JSON number'],
      [{ severityText: 5 }, 'logRecords[0].severityText: must be a string'],
      [{ attributes: [{ key: 'b', value: { boolValue: 'true' } }] }, 'attributes[0].value.boolValue: must be true or false'],
      [{ attributes: [{ key: 'd', value: { doubleValue: 'fast' } }] }, 'attributes[0].value.doubleValue: must be a number, got "fast"'],
      [{ attributes: [{ key: 'x', value: { bytesValue: '%%%' } }] }, 'attributes[0].value.bytesValue: must be a base64 string'],
      [{ spanId: 'eee19b7ec3c1b17' }, 'logRecords[0].spanId: must be a hex string'],
      [{ severityNumber: 'SEVERITY_NUMBER_LOUD' }, 'invalid SeverityNumber value "SEVERITY_NUMBER_LOUD"; expected an integer or an enum name'],
    ];
    for (const [record, message] of cases) {
      expect(() => parseOtlpJson('logs', logRecordJson(record)), message).toThrow(OtlpJsonError);
      expect(() => parseOtlpJson('logs', logRecordJson(record)), message).toThrow(message);
    }
  });

  it('accepts the proto3 JSON forms of numbers', () => {
    const request = parseOtlpJson('logs', logRecordJson({
      severityNumber: '13',
      droppedAttributesCount: '2',
      attributes: [{ key: 'd', value: { doubleValue: '-Infinity' } }, { key: 'i', value: { intValue: -5 } }],
    }));
    const [record] = (toOtlpJson('logs', request).resourceLogs as { scopeLogs: { logRecords: Record<string, unknown>[] }[] }[])[0].scopeLogs[0].logRecords;

    expect(record.severityNumber).toBe(13);
    expect(record.droppedAttributesCount).toBe(2);
    expect(record.attributes).toEqual([{ key: 'd', value: { doubleValue: '-Infinity' } }, { key: 'i', value: { intValue: '-5' } }]);
  });

  it('rejects only the invalid items when collecting rejections', () => {
    const text = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'ok' } }, { traceId: 'abc' }, { severityNumber: true }, { body: { stringValue: 'also ok' } }] }] }] });
    const rejections = new Rejections();

    const request = parseOtlpJson('logs', text, rejections);

    expect(countItems('logs', request)).toBe(2);
    expect(rejections.count).toBe(2);
    expect(rejections.message()).toBe('resourceLogs[0].scopeLogs[0].logRecords[1].traceId: must be a hex string, got "abc" (and 1 more rejected)');
  });

  it('rejects single data points of a metric', () => {
    const text = JSON.stringify({ resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'm', gauge: { dataPoints: [{ asInt: '1' }, { asInt: '9223372036854775808' }, { asDouble: 2.5 }] } }] }] }] });
    const rejections = new Rejections();

    const request = parseOtlpJson('metrics', text, rejections) as ExportMetricsServiceRequest;

    expect(countItems('metrics', request)).toBe(2);
    expect(rejections.message()).toBe('resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[1].asInt: value 9223372036854775808 is out of range for sfixed64 (-9223372036854775808 to 9223372036854775807)');
  });

  it('still rejects the whole request for an error outside items', () => {
    const text = JSON.stringify({ resourceLogs: [{ resource: { attributes: 'none' }, scopeLogs: [] }] });

    expect(() => parseOtlpJson('logs', text, new Rejections())).toThrow('resourceLogs[0].resource.attributes: must be an array');
  });

  it('round-trips through the protobuf encoding', () => {
    const json = {
      resourceSpans: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'svc' } }], droppedAttributesCount: 1 },
        scopeSpans: [{
          scope: { name: 'lib', version: '1' },
          spans: [{
            traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', parentSpanId: '00f067aa0ba902b7', flags: 257,
            name: 'GET /', kind: 2, startTimeUnixNano: '18446744073709551615', endTimeUnixNano: '1',
            attributes: [{ key: 'b', value: { bytesValue: 'AAE=' } }, { key: 'a', value: { arrayValue: { values: [{ intValue: '-9223372036854775808' }] } } }],
            events: [{ timeUnixNano: '5', name: 'e' }],
            links: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', flags: 1 }],
            status: { code: 2, message: 'boom' },
          }],
          schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
        }],
      }],
    };

    const decoded = decodeRequest('traces', encodeRequest('traces', parseOtlpJson('traces', JSON.stringify(json))));

    expect(toOtlpJson('traces', decoded)).toEqual(json);
  });
});

describe('exportResponseToJson', () => {
  it('is empty on full success', () => {
    expect(exportResponseToJson('traces', 0)).toEqual({});
  });

  it('names the rejected count of each signal as an int64 string', () => {
    expect(exportResponseToJson('traces', 3, 'bad ids')).toEqual({ partialSuccess: { rejectedSpans: '3', errorMessage: 'bad ids' } });
    expect(exportResponseToJson('logs', 1, 'x')).toEqual({ partialSuccess: { rejectedLogRecords: '1', errorMessage: 'x' } });
    expect(exportResponseToJson('metrics', 2, 'y')).toEqual({ partialSuccess: { rejectedDataPoints: '2', errorMessage: 'y' } });
  });

  it('keeps a warning without rejections', () => {
    expect(exportResponseToJson('logs', 0, 'slow down')).toEqual({ partialSuccess: { errorMessage: 'slow down' } });
  });
});

describe('toOtlpJson', () => {
  it('writes int64 as strings and enums as integers', () => {
    const json = toOtlpJson('logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: Long.fromString('18446744073709551615', true), severityNumber: 17 }] }] }] });

    expect(json).toEqual({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: '18446744073709551615', severityNumber: 17 }] }] }] });
  });
});
