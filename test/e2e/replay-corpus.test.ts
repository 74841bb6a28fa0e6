import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Finding } from '../../core/data/finding.js';
import { runCli } from '../helpers/daemon.js';
import { tempDirectory } from '../helpers/tmp.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'replay');

/**
 * Scenario labels of crowdsec_scenario_lines.tsv that a single request can show, with the share of
 * their lines that must be flagged at least. The floors sit just under what the default rules
 * flag today: sqli 16 of 16, xss 26 of 26, lfi 24 of 28, scanner-sensitive-files 9 of 9. The lfi
 * lines missed carry no payload in the line itself.
 */
const SINGLE_REQUEST_LABELS: Record<string, number> = {
  sqli: 0.9,
  xss: 0.95,
  lfi: 0.8,
  'scanner-sensitive-files': 0.85,
};
const COMBINED_LINE = /^\S+ \S+ \S+ \[[^\]]+\] "[^"]*" \d{3} \d+ "[^"]*" "[^"]*"$/;

function parseFindings(stdout: string): Finding[] {
  return stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Finding);
}

describe('replay of corpus access logs', () => {
  const directory = tempDirectory();
  afterAll(() => directory.cleanup());

  it('finds nothing in plainly benign nginx logs', async () => {
    const result = await runCli(['replay', '--format', 'nginx_combined', join(FIXTURES, 'filebeat_nginx_access_test.log'), join(FIXTURES, 'crowdsec_nginx_http-logs.log')]);

    expect(result.code).toBe(0);
    expect(parseFindings(result.stdout)).toEqual([]);
    expect(result.stderr).toMatch(/lines read: 16, parsed: \d+, failed: \d+/);
    expect(result.stderr).toMatch(/findings: 0/);
  });

  describe('scenario lines with one client address per line', () => {
    const labels = new Map<string, string>();
    let findings: Finding[] = [];
    let stderr = '';

    beforeAll(async () => {
      const rows = readFileSync(join(FIXTURES, 'crowdsec_scenario_lines.tsv'), 'utf8').split('\n').slice(1).filter(Boolean).map((row) => row.split('\t'));
      const lines: string[] = [];
      rows.forEach(([label, line], index) => {
        if (!(label in SINGLE_REQUEST_LABELS) || !COMBINED_LINE.test(line)) return;
        const address = `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
        labels.set(address, label);
        lines.push(line.replace(/^\S+/, address));
      });
      const file = join(directory.path, 'scenarios.log');
      writeFileSync(file, `${lines.join('\n')}\n`);
      const result = await runCli(['replay', '--format', 'nginx_combined', file]);
      expect(result.code).toBe(0);
      findings = parseFindings(result.stdout);
      stderr = result.stderr;
    });

    for (const [label, floor] of Object.entries(SINGLE_REQUEST_LABELS)) {
      it(`flags at least ${floor * 100}% of ${label} lines`, () => {
        const addresses = [...labels].filter(([, value]) => value === label).map(([address]) => address);
        const flagged = addresses.filter((address) => findings.some((finding) => finding.actor.address === address));
        expect(addresses.length).toBeGreaterThan(0);
        expect(flagged.length / addresses.length).toBeGreaterThanOrEqual(floor);
      });
    }

    it('prints findings per rule in the summary', () => {
      const rules = new Set(findings.filter((finding) => finding.status === 'new').map((finding) => finding.rule.id));
      for (const rule of rules) expect(stderr).toMatch(new RegExp(`^  ${rule} +\\d+$`, 'm'));
    });
  });
});
