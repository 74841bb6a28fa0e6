import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon } from '../helpers/daemon.js';
import { tempDirectory } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { attackerAddress, sendAttack } from '../e2e/otlp-attacks.js';
import { PeerProcess, requireProgram } from './peers.js';

const API_KEY = 'interop-bouncer-key-0123456789';

const CONFIG = `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
processors:
  detection: {}
exporters:
  debug: { verbosity: basic }
  decisions:
    api_keys: [${API_KEY}]
    policy: { max_duration: 8s, ban_duration: 8s }
service:
  admin: { endpoint: 127.0.0.1:0 }
  pipelines:
    traces: { receivers: [otlp], processors: [detection], exporters: [debug] }
    findings: { receivers: [detection], exporters: [decisions] }
`;

/** Returns the custom bouncer's config: pull every second, call our script, log to stdout, no metrics listener. */
function bouncerConfig(directory: string, adminEndpoint: string): string {
  return [
    `bin_path: ${join(directory, 'record.sh')}`,
    'feed_via_stdin: false',
    'total_retries: 0',
    'scenarios_containing: []',
    'scenarios_not_containing: []',
    'origins: []',
    `piddir: ${directory}/`,
    'update_frequency: 1s',
    'cache_retention_duration: 10s',
    'daemonize: false',
    'log_mode: stdout',
    `log_dir: ${directory}/`,
    'log_level: info',
    `api_url: http://${adminEndpoint}/`,
    `api_key: ${API_KEY}`,
    'prometheus:',
    '  enabled: false',
    '  listen_addr: 127.0.0.1',
    '  listen_port: 60602',
    '',
  ].join('\n');
}

describe('CrowdSec custom bouncer pulling the decisions API', () => {
  const directory = tempDirectory('watchpost-bouncer-');
  const calls = join(directory.path, 'calls.log');
  let daemon: Daemon;
  let bouncer: PeerProcess;

  beforeAll(async () => {
    const program = requireProgram('crowdsec-custom-bouncer', 'crowdsec-custom-bouncer');
    writeFileSync(join(directory.path, 'record.sh'), `#!/bin/sh\nprintf '%s\\n' "$*" >> ${calls}\n`);
    chmodSync(join(directory.path, 'record.sh'), 0o755);
    daemon = await Daemon.start(CONFIG);
    writeFileSync(join(directory.path, 'bouncer.yaml'), bouncerConfig(directory.path, daemon.endpoint('admin')));
    bouncer = new PeerProcess(program, ['-c', join(directory.path, 'bouncer.yaml')]);
  });

  afterAll(async () => {
    await bouncer?.stop();
    await daemon?.dispose();
    directory.cleanup();
  });

  function recorded(): string[] {
    return existsSync(calls) ? readFileSync(calls, 'utf8').split('\n').filter(Boolean) : [];
  }

  it('receives the ban a finding leads to', async () => {
    expect(await sendAttack(daemon.endpoint('otlp'), 7)).toBe(true);

    const add = await waitFor(() => recorded().find((line) => line.startsWith(`add ${attackerAddress(7)}`)), 20_000, `the bouncer to add ${attackerAddress(7)}: ${bouncer.output}`);

    const [, value, duration, reason, ...json] = add.split(' ');
    const decision = JSON.parse(json.join(' ')) as Record<string, unknown>;
    expect(value).toBe(attackerAddress(7));
    expect(Number(duration)).toBeGreaterThan(0);
    expect(Number(duration)).toBeLessThanOrEqual(8);
    expect(reason).toBe('sqli');
    expect(decision.scope).toBe('Ip');
    expect(decision.origin).toBe('watchpost');
    expect(decision.type).toBe('ban');
  });

  it('removes the ban when the decision expires', async () => {
    const del = await waitFor(() => recorded().find((line) => line.startsWith(`del ${attackerAddress(7)}`)), 30_000, `the bouncer to delete ${attackerAddress(7)}: ${bouncer.output}`);

    expect(del.split(' ')[1]).toBe(attackerAddress(7));
    expect(recorded().findIndex((line) => line.startsWith('add'))).toBeLessThan(recorded().findIndex((line) => line.startsWith('del')));
  });
});
