import { describe, expect, it } from 'vitest';
import { countItems, decodeRequest, type ExportLogsServiceRequest, type ExportTraceServiceRequest } from '../../../core/otlp/codec.js';
import { OtlpJsonError, parseOtlpJson, toOtlpJson } from '../../../core/otlp/json.js';
import { Rejections } from '../../../core/otlp/validate.js';
import { loadCorpus } from './corpus.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const corpus = loadCorpus();

function firstLogRecords(request: Json): Json[] {
  return request.resourceLogs.flatMap((resource: Json) => (resource.scopeLogs ?? []).flatMap((scope: Json) => scope.logRecords ?? []));
}

function spans(request: Json): Json[] {
  return request.resourceSpans.flatMap((resource: Json) => (resource.scopeSpans ?? []).flatMap((scope: Json) => scope.spans ?? []));
}

function attributeMap(attributes: Json[]): Map<string, Json[]> {
  const map = new Map<string, Json[]>();
  for (const attribute of attributes) map.set(attribute.key, [...(map.get(attribute.key) ?? []), attribute.value]);
  return map;
}

describe('OTLP corpus', () => {
  it('has every fixture', () => {
    expect(corpus.length).toBe(18);
    expect(corpus.filter((entry) => entry.protobuf).length).toBe(10);
  });

  for (const entry of corpus) {
    it(`${entry.name} is ${entry.verdict}`, () => {
      const rejections = new Rejections();
      const read = () => parseOtlpJson(entry.signal, entry.json, rejections);

      if (entry.verdict === 'rejected') {
        let thrown: unknown;
        try {
          const request = read();
          // A request is refused whole when every one of its items was rejected.
          expect(countItems(entry.signal, request)).toBe(0);
          expect(rejections.count).toBe(entry.expected.errors?.length ?? rejections.count);
          expect(rejections.count).toBeGreaterThan(0);
          thrown = new OtlpJsonError('', rejections.message());
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(OtlpJsonError);
        // The message names the first invalid item and counts the rest.
        if (entry.expected.errors) expect((thrown as Error).message).toContain(entry.expected.errors[0]);
        return;
      }

      const request = read();
      if (entry.items !== undefined) expect(countItems(entry.signal, request)).toBe(entry.items);
      if (entry.verdict === 'partial') {
        expect(rejections.count).toBe(entry.expected.rejected);
        for (const message of entry.expected.errors ?? []) expect(rejections.message()).toContain(message);
      } else {
        expect(rejections.count).toBe(0);
      }
    });

    if (entry.protobuf) {
      it(`${entry.name}.pb decodes to the same request as its JSON`, () => {
        const fromProtobuf = toOtlpJson(entry.signal, decodeRequest(entry.signal, entry.protobuf as Buffer));
        const fromJson = toOtlpJson(entry.signal, parseOtlpJson(entry.signal, entry.json));

        expect(fromProtobuf).toEqual(fromJson);
      });
    }
  }

  it('keeps every AnyValue type exact', () => {
    const entry = corpus.find((item) => item.name === 'edge_logs_every_anyvalue_type')!;
    const record = firstLogRecords(toOtlpJson('logs', parseOtlpJson('logs', entry.json)))[0];
    const attributes = attributeMap(record.attributes);

    expect(attributes.get('int.min.string')).toEqual([{ intValue: '-9223372036854775808' }]);
    expect(attributes.get('int.max.string')).toEqual([{ intValue: '9223372036854775807' }]);
    expect(attributes.get('int.as.number')).toEqual([{ intValue: '42' }]);
    expect(attributes.get('int.above.2^53.string')).toEqual([{ intValue: '9007199254740993' }]);
    expect(attributes.get('double.nan')).toEqual([{ doubleValue: 'NaN' }]);
    expect(attributes.get('double.inf')).toEqual([{ doubleValue: 'Infinity' }]);
    expect(attributes.get('double.neginf')).toEqual([{ doubleValue: '-Infinity' }]);
    expect(attributes.get('double.as.string')).toEqual([{ doubleValue: 1.5 }]);
    expect(attributes.get('double.integral')).toEqual([{ doubleValue: 3 }]);
    expect(attributes.get('bool.false')).toEqual([{ boolValue: false }]);
    expect(attributes.get('str.empty')).toEqual([{ stringValue: '' }]);
    expect(attributes.get('str.unicode')).toEqual([{ stringValue: 'κόσμε ñ 𐌼 \u0000 nul' }]);
    expect(attributes.get('bytes.b64')).toEqual([{ bytesValue: Buffer.from('0001feff2062696e617279', 'hex').toString('base64') }]);
    expect(attributes.get('array.mixed')?.[0].arrayValue.values).toEqual([
      { stringValue: 'a' }, { intValue: '1' }, { doubleValue: 2.5 }, { boolValue: true }, { arrayValue: { values: [{ stringValue: 'nested' }] } }, {},
    ]);
    expect(attributes.get('value.unset')).toEqual([{}]);
    expect(attributes.get('dup.key')).toEqual([{ stringValue: 'first' }, { stringValue: 'second' }]);
    expect(record.body.kvlistValue.values[1].value.kvlistValue.values[0].value.kvlistValue.values[0]).toEqual({ key: 'leaf', value: { intValue: '7' } });
  });

  it('keeps ids, timestamps and enums exact', () => {
    const entry = corpus.find((item) => item.name === 'edge_logs_ids_timestamps_enums')!;
    const records = firstLogRecords(toOtlpJson('logs', parseOtlpJson('logs', entry.json)));

    expect(records[0].timeUnixNano).toBe('1700000000000000001');
    expect(records[0].traceId).toBe('5b8efff798038103d269b633813fc60c');
    expect(records[0].spanId).toBe('eee19b7ec3c1b174');
    expect(records[1].timeUnixNano).toBeUndefined();
    expect(records[1].observedTimeUnixNano).toBe('1700000000000000001');
    expect(records[1].traceId).toBeUndefined();
    expect(records[2].severityNumber).toBe(13);
    expect(records[2].flags).toBe(1);
    expect(records[3].severityNumber).toBe(24);
    expect(records[3].eventName).toBe('security.alert');
  });

  it('reads the attack-bearing spans exactly', () => {
    const entry = corpus.find((item) => item.name === 'edge_traces_http_server_with_attack_attrs')!;
    const [server, client] = spans(toOtlpJson('traces', parseOtlpJson('traces', entry.json)));

    expect(server.kind).toBe(2);
    expect(server.flags).toBe(257);
    expect(server.status).toEqual({ message: 'upstream error', code: 2 });
    expect(server.links[0].traceId).toBe('5b8efff798038103d269b633813fc60c');
    expect(client.traceId).toBe(server.traceId);
    expect(client.parentSpanId).toBe(server.spanId);
    expect(client.startTimeUnixNano).toBe('1700000000010000001');
    expect(client.endTimeUnixNano).toBe('1700000000090000001');
    expect(client.droppedAttributesCount).toBe(2);
  });

  it('matches the opentelemetry-proto examples', () => {
    for (const name of ['proto-examples_logs', 'proto-examples_events']) {
      const entry = corpus.find((item) => item.name === name)!;
      const records = firstLogRecords(toOtlpJson('logs', parseOtlpJson('logs', entry.json)));
      const expected = entry.expected.expected.records;

      expect(records.length, name).toBe(expected.length);
      records.forEach((record, index) => {
        const wanted = expected[index];
        expect(record.timeUnixNano).toBe(wanted.timeUnixNano);
        expect(record.severityNumber).toBe(wanted.severityNumber);
        expect(record.severityText).toBe(wanted.severityText);
        expect(record.traceId ?? '').toBe(wanted.traceId);
        expect(record.spanId ?? '').toBe(wanted.spanId);
        expect(record.body).toEqual(wanted.body);
        expect(record.eventName ?? null).toBe(wanted.eventName);
        expect(record.attributes.map((attribute: Json) => attribute.key)).toEqual(wanted.attribute_keys);
      });
    }

    const trace = corpus.find((item) => item.name === 'proto-examples_trace')!;
    const [span] = spans(toOtlpJson('traces', decodeRequest('traces', trace.protobuf as Buffer) as ExportTraceServiceRequest));
    const wanted = trace.expected.expected.spans_detail[0];
    expect(span).toMatchObject({ traceId: wanted.traceId, spanId: wanted.spanId, parentSpanId: wanted.parentSpanId, name: wanted.name, kind: wanted.kind, startTimeUnixNano: wanted.start, endTimeUnixNano: wanted.end });
  });

  it('reads the metrics example', () => {
    const entry = corpus.find((item) => item.name === 'proto-examples_metrics')!;
    const request = toOtlpJson('metrics', parseOtlpJson('metrics', entry.json));
    const metrics = request.resourceMetrics as Json[];
    const names = metrics.flatMap((resource) => resource.scopeMetrics.flatMap((scope: Json) => scope.metrics.map((metric: Json) => metric.name)));

    expect(names).toEqual(['my.counter', 'my.gauge', 'my.histogram', 'my.exponential.histogram']);
    expect(countItems('metrics', parseOtlpJson('metrics', entry.json))).toBe(4);
  });

  it('takes enum names as a documented leniency', () => {
    const entry = corpus.find((item) => item.name === 'edge_logs_invalid_enum_name')!;
    const [record] = firstLogRecords(toOtlpJson('logs', parseOtlpJson('logs', entry.json)));

    expect(record.severityNumber).toBe(13);
  });

  it('reads snake_case keys as the Collector does', () => {
    const entry = corpus.find((item) => item.name === 'edge_logs_snake_case_keys')!;
    const request = parseOtlpJson('logs', entry.json) as ExportLogsServiceRequest;
    const [record] = firstLogRecords(toOtlpJson('logs', request));

    expect(record.timeUnixNano).toBe('1700000000000000000');
    expect(record.severityNumber).toBe(9);
    expect(record.body).toEqual({ stringValue: 'snake case' });
  });

  it('rejects timestamps sent as {low, high} objects', () => {
    const entry = corpus.find((item) => item.name === 'otel-js-4216_low_high_object')!;

    expect(() => parseOtlpJson('traces', entry.json)).toThrow('resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: must be a fixed64 as a decimal string or a JSON number');
  });
});
