import Long from 'long';
import { describe, expect, it } from 'vitest';
import { decodeRequest, encodeRequest, type ExportLogsServiceRequest, type ILogRecord } from '../../../core/otlp/codec.js';
import { toOtlpJson } from '../../../core/otlp/json.js';
import { attributeOf, OtlpLogsEncoder } from '../../../receivers/helper/otlp-logs.js';
import { frameParser } from '../../../receivers/syslog/worker.js';

function decodedJson(bytes: Uint8Array): unknown {
  return toOtlpJson('logs', decodeRequest('logs', bytes));
}

function expectSameMessage(request: ExportLogsServiceRequest): void {
  const fast = new OtlpLogsEncoder().encode(request);
  const generic = encodeRequest('logs', request);
  expect(decodedJson(fast)).toEqual(decodedJson(generic));
}

const FULL_RECORD: ILogRecord = {
  timeUnixNano: Long.fromString('1714557600123456789', true),
  observedTimeUnixNano: Long.fromString('1714557601000000000', true),
  severityNumber: 17,
  severityText: 'err',
  body: { stringValue: 'Grüße 🎉 end' },
  attributes: [
    { key: 'text', value: { stringValue: '' } },
    { key: 'flag', value: { boolValue: false } },
    { key: 'small', value: { intValue: 7 as never } },
    { key: 'negative', value: { intValue: -3 as never } },
    { key: 'large', value: { intValue: Long.fromString('9007199254740993') } },
    { key: 'ratio', value: { doubleValue: 0.25 } },
    { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 2 as never }, { arrayValue: { values: [] } }] } } },
    { key: 'map', value: { kvlistValue: { values: [{ key: 'inner', value: { kvlistValue: { values: [{ key: 'x', value: { stringValue: 'y' } }] } } }] } } },
    { key: 'raw', value: { bytesValue: Uint8Array.from([0, 1, 255]) } },
    { key: 'long text', value: { stringValue: 'z'.repeat(20_000) } },
  ],
  droppedAttributesCount: 2,
  flags: 1,
  traceId: Uint8Array.from({ length: 16 }, (_, i) => i + 1),
  spanId: Uint8Array.from({ length: 8 }, (_, i) => i + 1),
};

describe('otlp logs encoder', () => {
  it('encodes every field and value kind', () => {
    expectSameMessage({
      resourceLogs: [{
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'edge' } }], droppedAttributesCount: 1 },
        scopeLogs: [{ scope: { name: 'watchpost/syslog', version: '1', attributes: [{ key: 'a', value: { intValue: 1 as never } }] }, logRecords: [FULL_RECORD, {}], schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' }],
        schemaUrl: 'https://example.com/resource',
      }, { scopeLogs: [] }],
    });
  });

  it('encodes numbers and strings as 64-bit times', () => {
    expectSameMessage({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: 1714557600123 as never, observedTimeUnixNano: '1714557601000000000' as never }] }] }] });
  });

  it('writes a lone surrogate as U+FFFD', () => {
    const bytes = new OtlpLogsEncoder().encode({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'a\ud800b' } }] }] }] });

    const decoded = decodeRequest('logs', bytes) as ExportLogsServiceRequest;

    expect(decoded.resourceLogs?.[0].scopeLogs?.[0].logRecords?.[0].body?.stringValue).toBe('a\ufffdb');
  });

  it('encodes an empty request', () => {
    expect(new OtlpLogsEncoder().encode({})).toHaveLength(0);
    expectSameMessage({ resourceLogs: [] });
  });

  it('encodes parsed syslog records', () => {
    const lines = [
      '<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 [exampleSDID@32473 iut="3" eventSource="Application"][examplePriority@32473 class="high"] BOM\'su root\' failed',
      '<13>Feb  5 17:32:18 10.0.0.99 sshd[123]: Accepted password for root from 198.51.100.7',
      'no PRI at all',
    ];
    const bytes = Buffer.from(lines.join(''));
    const ends = Uint32Array.from(lines.map((_, i) => Buffer.byteLength(lines.slice(0, i + 1).join(''))));
    const parse = frameParser({ protocol: 'auto', location: 'UTC', allow_skip_pri_header: false });

    const { request } = parse({ bytes, ends }, { observedMs: 1714557600000.25, attributes: { 'network.transport': 'tcp', 'network.peer.port': 514 } });

    expectSameMessage(request as ExportLogsServiceRequest);
  });

  it('copies encoded attributes', () => {
    const encoder = new OtlpLogsEncoder();
    const address = encoder.encodeAttribute('network.peer.address', '192.0.2.7');
    const port = encoder.encodeAttribute('network.peer.port', 51400);
    const records: ILogRecord[] = [1, 2].map((n) => ({
      body: { stringValue: `message ${n}` },
      attributes: [attributeOf(address), attributeOf(port), { key: 'n', value: { intValue: n as never } }],
    }));

    expectSameMessage({ resourceLogs: [{ scopeLogs: [{ logRecords: records }] }] });
  });

  it('encodes a changed attribute afresh', () => {
    const encoder = new OtlpLogsEncoder();
    const hostname = encoder.encodeAttribute('hostname', 'gateway');
    const priority = encoder.encodeAttribute('priority', 13);
    const changedText = attributeOf(hostname);
    const replacedValue = attributeOf(hostname);
    const renamed = attributeOf(hostname);
    const changedNumber = attributeOf(priority);
    (changedText.value as { stringValue: string }).stringValue = 'redacted';
    replacedValue.value = { stringValue: 'masked' };
    renamed.key = 'host.name';
    (changedNumber.value as unknown as { intValue: number }).intValue = 14;

    const request = { resourceLogs: [{ scopeLogs: [{ logRecords: [{ attributes: [changedText, replacedValue, renamed, changedNumber, attributeOf(hostname)] }] }] }] };
    const decoded = decodeRequest('logs', encoder.encode(request)) as ExportLogsServiceRequest;
    const attributes = decoded.resourceLogs?.[0].scopeLogs?.[0].logRecords?.[0].attributes ?? [];

    expect(attributes.map((attribute) => attribute.key)).toEqual(['hostname', 'hostname', 'host.name', 'priority', 'hostname']);
    expect(attributes.map((attribute) => attribute.value?.stringValue ?? Number(attribute.value?.intValue))).toEqual(['redacted', 'masked', 'gateway', 14, 'gateway']);
  });

  it('reuses its buffer across requests', () => {
    const encoder = new OtlpLogsEncoder();
    const first = encoder.encode({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'first' } }] }] }] });
    encoder.encode({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'second, and longer' } }] }] }] });

    expect(decodedJson(first)).toEqual(decodedJson(encodeRequest('logs', { resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'first' } }] }] }] })));
  });
});
