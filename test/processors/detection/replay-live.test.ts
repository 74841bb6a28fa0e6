import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../../core/data/finding.js';
import { Daemon, runCli } from '../../helpers/daemon.js';
import { tempDirectory } from '../../helpers/tmp.js';
import { waitFor } from '../../helpers/wait.js';

const LOG = join(import.meta.dirname, '..', '..', 'fixtures', 'detection', 'replay', 'access.log');
const LINES = readFileSync(LOG, 'utf8').split('\n').filter(Boolean).length;

const CONFIG = `
receivers:
  gatewaylog/nginx:
    include: [./access.log]
    format: nginx_combined
    start_at: beginning
    poll_interval: 50ms
processors:
  detection: {}
exporters:
  file/findings: { path: ./findings.jsonl }
  debug: { verbosity: basic }
service:
  admin: { endpoint: 127.0.0.1:0 }
  storage: { directory: ./data }
  pipelines:
    logs: { receivers: [gatewaylog/nginx], processors: [detection], exporters: [debug] }
    findings: { receivers: [detection], exporters: [file/findings] }
`;

function parse(text: string): Finding[] {
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Finding);
}

/** What must agree between replay and live: every new finding, and each fingerprint's final count. */
function summary(findings: Finding[]): { raised: string[]; counts: Record<string, number> } {
  const raised = findings.filter((finding) => finding.status === 'new')
    .map((finding) => `${finding.rule.id} ${JSON.stringify(finding.key)} ${finding.first_seen} ${finding.time} ${finding.count}`).sort();
  const counts: Record<string, number> = {};
  for (const finding of findings) counts[finding.fingerprint] = Math.max(counts[finding.fingerprint] ?? 0, finding.count);
  return { raised, counts };
}

describe('replay and live detection', () => {
  let replayed: Finding[] = [];
  let live: Finding[] = [];
  const directories: (() => void)[] = [];

  beforeAll(async () => {
    const replayDirectory = tempDirectory('watchpost-replay-');
    directories.push(replayDirectory.cleanup);
    const result = await runCli(['replay', '--format', 'nginx_combined', LOG], { cwd: replayDirectory.path });
    if (result.code !== 0) throw new Error(`replay failed: ${result.stderr}`);
    replayed = parse(result.stdout);

    const liveDirectory = tempDirectory('watchpost-live-');
    directories.push(liveDirectory.cleanup);
    copyFileSync(LOG, join(liveDirectory.path, 'access.log'));
    const daemon = await Daemon.start(CONFIG, { directory: liveDirectory.path });
    try {
      await waitFor(async () => {
        const text = await (await fetch(`http://${daemon.endpoint('admin')}/metrics`)).text();
        return new RegExp(`watchpost_receiver_accepted_items_total\\{receiver="gatewaylog/nginx",signal="logs"\\} ${LINES}\\b`).test(text);
      }, 30_000, 'every line accepted');
      expect(await daemon.stop('SIGTERM')).toBe(0);
      live = parse(readFileSync(join(liveDirectory.path, 'findings.jsonl'), 'utf8'));
    } finally {
      await daemon.dispose();
    }
  }, 90_000);

  afterAll(() => {
    for (const cleanup of directories) cleanup();
  });

  it('raise findings from the log', () => {
    expect(replayed.filter((finding) => finding.status === 'new').length).toBeGreaterThan(5);
  });

  it('raise the same findings', () => {
    expect(summary(live).raised).toEqual(summary(replayed).raised);
  });

  it('end with the same counts', () => {
    expect(summary(live).counts).toEqual(summary(replayed).counts);
  });

  it('flag the attacking addresses of the ground truth', () => {
    const truth = JSON.parse(readFileSync(join(LOG, '..', 'ground-truth.json'), 'utf8')) as { attackers: { ip: string; type: string }[] };
    const flagged = new Set(replayed.map((finding) => finding.actor.address));

    const missed = truth.attackers.filter((attacker) => !flagged.has(attacker.ip)).map((attacker) => attacker.type);

    expect(missed).toEqual([]);
  });
});
