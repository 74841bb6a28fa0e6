import { connect } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../../helpers/daemon.js';
import { waitFor } from '../../helpers/wait.js';

interface JsonAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string };
}

interface JsonRecord {
  body: { stringValue: string };
  attributes: JsonAttribute[];
}

function records(path: string): JsonRecord[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8').split('\n').filter(Boolean)
    .flatMap((line) => (JSON.parse(line) as { resourceLogs: { scopeLogs: { logRecords: JsonRecord[] }[] }[] }).resourceLogs)
    .flatMap((resource) => resource.scopeLogs.flatMap((scope) => scope.logRecords));
}

function attribute(record: JsonRecord, key: string): string | undefined {
  const value = record.attributes.find((item) => item.key === key)?.value;
  return value?.stringValue ?? value?.intValue;
}

describe('syslog receiver with redaction in the daemon', () => {
  let daemon: Daemon;

  beforeAll(async () => {
    daemon = await Daemon.start(`
receivers:
  syslog:
    tcp: { endpoint: 127.0.0.1:0 }
processors:
  redaction:
    blocked_keys: [hostname]
exporters:
  file: { path: ./records.jsonl }
service:
  admin: { endpoint: 127.0.0.1:0 }
  pipelines:
    logs: { receivers: [syslog], processors: [redaction], exporters: [file] }
`);
  });

  afterAll(async () => {
    await daemon?.dispose();
  });

  it('redacts records whose attributes repeat', async () => {
    const [host, port] = daemon.endpoint('syslog').split(':');
    const socket = connect(Number(port), host);
    await new Promise((resolve) => socket.once('connect', resolve));
    const lines = [1, 2, 3].map((n) => `<13>1 2024-05-01T10:00:0${n}Z gateway app ${n} - - login ${n} by alice@example.com\n`);
    socket.end(lines.join(''));

    const path = daemon.path('records.jsonl');
    const found = await waitFor(() => (records(path).length === 3 ? records(path) : undefined), 15_000, 'three records in the file');
    for (const record of found) {
      expect(attribute(record, 'hostname')).toBe('****');
      expect(attribute(record, 'appname')).toBe('app');
      expect(attribute(record, 'priority')).toBe('13');
    }
    expect(found.map((record) => record.body.stringValue).sort()).toEqual(['login 1 by ****', 'login 2 by ****', 'login 3 by ****']);
  });
});
