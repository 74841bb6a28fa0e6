import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReceiverHarness } from '../receivers/syslog/harness.js';
import { tempDirectory } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/*
 * Real senders on loopback: util-linux `logger` over UDP and TCP in each of its formats, and
 * rsyslog forwarding to Watchpost over TCP with octet counting. `.ci/run` installs both from
 * Debian's packages (bsdutils, rsyslog).
 */

const LOGGER = '/usr/bin/logger';
const RSYSLOGD = '/usr/sbin/rsyslogd';

function requireTool(path: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing; install it with apt-get (see APT_PACKAGES in .ci/run)`);
}

describe('logger as a syslog sender', () => {
  let harness: ReceiverHarness;

  beforeAll(async () => {
    requireTool(LOGGER);
    harness = await new ReceiverHarness({ tcp: { endpoint: '127.0.0.1:0' } as never, udp: { endpoint: '127.0.0.1:0' } as never }).start();
  });

  afterAll(async () => {
    await harness?.stop();
  });

  const cases = [
    { name: 'udp rfc5424', args: ['-d', '--rfc5424'], transport: 'udp', version: 1 },
    { name: 'udp rfc3164', args: ['-d', '--rfc3164'], transport: 'udp', version: undefined },
    { name: 'tcp rfc5424', args: ['-T', '--rfc5424'], transport: 'tcp', version: 1 },
    { name: 'tcp rfc3164', args: ['-T', '--rfc3164'], transport: 'tcp', version: undefined },
    { name: 'tcp octet-count rfc5424', args: ['-T', '--octet-count', '--rfc5424'], transport: 'tcp', version: 1 },
    { name: 'tcp octet-count rfc3164', args: ['-T', '--octet-count', '--rfc3164'], transport: 'tcp', version: undefined },
  ];

  for (const sender of cases) {
    it(`${sender.name} arrives once with its fields`, async () => {
      const port = sender.transport === 'udp' ? harness.udpPort() : harness.tcpPort();
      const text = `interop ${sender.name} ${Date.now()}`;
      execFileSync(LOGGER, ['-n', '127.0.0.1', '-P', String(port), ...sender.args, '-t', 'wptest', '-p', 'auth.warning', '--id=4242', text]);

      const record = await waitFor(() => harness.records.find((candidate) => candidate.body === text), 10_000, `the ${sender.name} message`);
      expect(harness.records.filter((candidate) => candidate.body === text)).toHaveLength(1);
      expect(record.attributes.appname).toBe('wptest');
      expect(record.attributes.proc_id).toBe('4242');
      expect(record.attributes.priority).toBe(4 * 8 + 4);
      expect(record.attributes.version).toBe(sender.version);
      expect(record.attributes['network.transport']).toBe(sender.transport);
      expect(record.severityText).toBe('warning');
      expect(record.attributes['watchpost.parse.error']).toBeUndefined();
      const ageMs = Date.now() - Number(record.timeNanos / 1_000_000n);
      expect(Math.abs(ageMs)).toBeLessThan(60_000);
    });
  }
});

describe('rsyslog forwarding with octet counting', () => {
  let harness: ReceiverHarness;
  let rsyslog: ChildProcess | undefined;
  let directory: { path: string; cleanup: () => void };
  const inputPort = 20000 + (process.pid % 20000);

  beforeAll(async () => {
    requireTool(RSYSLOGD);
    harness = await new ReceiverHarness({ tcp: { endpoint: '127.0.0.1:0' } as never, max_batch_messages: 200 }).start();
    directory = tempDirectory('watchpost-rsyslog-');
    const config = `
global(workDirectory="${directory.path}")
module(load="imudp")
input(type="imudp" address="127.0.0.1" port="${inputPort}")
action(type="omfwd" target="127.0.0.1" port="${harness.tcpPort()}" protocol="tcp"
       TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
       queue.type="LinkedList" queue.size="100000" action.resumeRetryCount="-1")
`;
    writeFileSync(join(directory.path, 'rsyslog.conf'), config);
    rsyslog = spawn(RSYSLOGD, ['-n', '-f', join(directory.path, 'rsyslog.conf'), '-i', join(directory.path, 'rsyslog.pid')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    rsyslog.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
    await waitFor(() => {
      if (rsyslog?.exitCode !== null) throw new Error(`rsyslogd exited: ${stderr}`);
      // rsyslogd writes its pid file once its inputs are open.
      return existsSync(join(directory.path, 'rsyslog.pid'));
    }, 15_000, 'rsyslogd to start');
  });

  afterAll(async () => {
    rsyslog?.kill('SIGTERM');
    await harness?.stop();
    directory?.cleanup();
  });

  it('delivers every message once', async () => {
    const count = 500;
    const tag = `rs${Date.now()}`;
    for (let i = 0; i < count; i += 50) {
      const batch = Array.from({ length: 50 }, (_, j) => `<13>May  1 10:00:00 sender ${tag}[${i + j}]: message ${i + j}`);
      execFileSync(process.execPath, ['-e', `
        const socket = require('node:dgram').createSocket('udp4');
        const lines = ${JSON.stringify(batch)};
        let left = lines.length;
        for (const line of lines) socket.send(line, ${inputPort}, '127.0.0.1', () => { if (--left === 0) socket.close(); });
      `]);
    }

    await waitFor(() => harness.records.filter((record) => record.attributes.appname === tag).length >= count, 30_000, `${count} forwarded messages`);
    const received = harness.records.filter((record) => record.attributes.appname === tag);
    expect(received).toHaveLength(count);
    expect(new Set(received.map((record) => record.attributes.proc_id)).size).toBe(count);
    expect(received.every((record) => record.attributes.version === 1)).toBe(true);
    // rsyslog's %msg% keeps the space after the RFC 3164 TAG, so the forwarded MSG starts with it.
    expect(received.map((record) => record.body).filter((body) => !body.startsWith(' message '))).toEqual([]);
  });
});
