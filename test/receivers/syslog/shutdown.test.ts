import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InProcessWatchpost } from '../../helpers/otlp.js';
import { tempDirectory } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

describe('syslog receiver at shutdown', () => {
  const temp = tempDirectory('watchpost-syslog-shutdown-');
  afterAll(() => temp.cleanup());

  it('delivers a batch held for admission before exporters stop', async () => {
    const output = join(temp.path, 'records.jsonl');
    const watchpost = await InProcessWatchpost.start(`
receivers:
  syslog: { tcp: { endpoint: 127.0.0.1:0 } }
processors:
  memory_limiter: { limit_mib: 100000 }
exporters:
  file: { path: ${output} }
service:
  admin: { endpoint: 127.0.0.1:0 }
  storage: { directory: ${join(temp.path, 'data')} }
  pipelines:
    logs: { receivers: [syslog], processors: [memory_limiter], exporters: [file] }
`);
    const listening = watchpost.logs.find((entry) => entry.msg === 'syslog receiver listening' && entry.transport === 'tcp');
    const [host, port] = String(listening?.endpoint).split(/:(?=\d+$)/);
    watchpost.service.admission.refuse('test', 'held for the test');

    const socket = connect(Number(port), host);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.end('<13>1 2026-12-05T01:00:00Z host app - - - held at shutdown\n');
    await waitFor(() => watchpost.logs.some((entry) => entry.msg.includes('syslog')) && socket.writableFinished, 5000, 'the line sent');
    await new Promise((resolve) => setTimeout(resolve, 300));

    await watchpost.service.shutdown();

    const records = readFileSync(output, 'utf8');
    expect(records).toContain('held at shutdown');
    expect(watchpost.logs.filter((entry) => entry.msg.includes('dropped syslog messages'))).toEqual([]);
  });
});
