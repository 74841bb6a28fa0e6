import { connect } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import Long from 'long';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRequest, type ILogRecord } from '../../../core/otlp/codec.js';
import { logsToText } from '../../../exporters/file/text.js';
import { Daemon } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait.js';

function requestBytes(records: ILogRecord[][]): Uint8Array {
  return encodeRequest('logs', { resourceLogs: records.map((logRecords) => ({ resource: { attributes: [] }, scopeLogs: [{ scope: { name: 'test' }, logRecords }] })) });
}

function text(records: ILogRecord[][]): string {
  return Buffer.from(logsToText(requestBytes(records))).toString('utf8');
}

describe('file exporter text format', () => {
  it('writes one line per record body', () => {
    const output = text([[{ body: { stringValue: 'first' }, timeUnixNano: Long.fromNumber(1) }, { body: { stringValue: 'second' } }], [{ body: { stringValue: 'third' } }]]);

    expect(output).toBe('first\nsecond\nthird\n');
  });

  it('escapes line breaks and backslashes', () => {
    expect(text([[{ body: { stringValue: 'a\nb\r\nC:\\temp' } }]])).toBe('a\\nb\\r\\nC:\\\\temp\n');
  });

  it('keeps UTF-8 text as it is', () => {
    expect(text([[{ body: { stringValue: 'Grüße 🎉' } }]])).toBe('Grüße 🎉\n');
  });

  it('writes other bodies as JSON', () => {
    const output = text([[
      { body: { kvlistValue: { values: [{ key: 'user', value: { stringValue: 'u1' } }, { key: 'ok', value: { boolValue: true } }] } } },
      { body: { intValue: Long.fromNumber(42) } },
      { body: { bytesValue: Uint8Array.from([1, 2]) } },
    ]]);

    expect(output).toBe('{"user":"u1","ok":true}\n42\n"AQI="\n');
  });

  it('writes an empty line for a record without body', () => {
    expect(text([[{ severityText: 'info' }, { body: { stringValue: '' } }]])).toBe('\n\n');
  });

  it('rejects malformed protobuf', () => {
    expect(() => logsToText(Uint8Array.from([0x0a, 0x05, 0x12]))).toThrow(/invalid OTLP logs request/);
  });
});

describe('file exporter text format in the daemon', () => {
  let daemon: Daemon;

  beforeAll(async () => {
    daemon = await Daemon.start(`
receivers:
  syslog:
    tcp: { endpoint: 127.0.0.1:0 }
exporters:
  file: { path: ./messages.log, format: text }
service:
  admin: { endpoint: 127.0.0.1:0 }
  pipelines:
    logs: { receivers: [syslog], exporters: [file] }
`);
  });

  afterAll(async () => {
    await daemon?.dispose();
  });

  it('writes one line per syslog message', async () => {
    const [host, port] = daemon.endpoint('syslog').split(':');
    const socket = connect(Number(port), host);
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.end('<13>1 - host app - - - first\n<13>1 - host app - - - second\n17 <13>1 - - - - - -');

    const path = daemon.path('messages.log');
    await waitFor(() => existsSync(path) && readFileSync(path, 'utf8').split('\n').length === 4, 15_000, 'three lines in the file');
    expect(readFileSync(path, 'utf8')).toBe('first\nsecond\n\n');
  });
});
