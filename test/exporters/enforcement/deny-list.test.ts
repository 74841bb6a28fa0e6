import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../../core/data/finding.js';
import { denyListExporterFactory } from '../../../exporters/enforcement/deny_list/factory.js';
import { waitFor } from '../../helpers/wait.js';
import { configErrors } from '../config-errors.js';
import { ExporterHarness, findingsBatch, fixtureFindings } from '../harness.js';

function ban(address: string, id: string): Finding {
  return { ...fixtureFindings()[0], id, actor: { address } };
}

describe('deny_list exporter', () => {
  let harness: ExporterHarness;
  let path: string;

  beforeEach(() => {
    harness = new ExporterHarness();
    path = join(harness.directory.path, 'watchpost-deny.map');
  });

  afterEach(async () => {
    await harness.close();
  });

  function lines(): string[] {
    return readFileSync(path, 'utf8').split('\n').filter((line) => line && !line.startsWith('#'));
  }

  it('writes nginx map lines for banned addresses', async () => {
    const exporter = await harness.start(harness.create(denyListExporterFactory, { path, flush_interval: 10 }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await waitFor(() => existsSync(path) && lines().length === 2, 5000, 'two entries');

    expect(lines()).toEqual(['2001:db8::7 1;', '203.0.113.7 1;']);
    expect(readFileSync(path, 'utf8').startsWith('# Written by Watchpost (deny_list); 2 entries.')).toBe(true);
  });

  it('writes HAProxy map lines with the configured value', async () => {
    const exporter = await harness.start(harness.create(denyListExporterFactory, { path, format: 'haproxy', value: 'deny', flush_interval: 10 }));

    await exporter.consume(findingsBatch([fixtureFindings()[0]]));
    await waitFor(() => existsSync(path) && lines().length === 1, 5000, 'the entry');

    expect(lines()).toEqual(['203.0.113.7 deny']);
  });

  it('writes an empty list at start and leaves no temporary file', async () => {
    await harness.start(harness.create(denyListExporterFactory, { path }));

    expect(lines()).toEqual([]);
    expect(readdirSync(harness.directory.path).filter((name) => name.includes('.tmp'))).toEqual([]);
  });

  it('leaves out identities a map file could misread', async () => {
    const policy = { scopes: ['identity'], min_severity: 'medium', min_confidence: 'low' };
    const exporter = await harness.start(harness.create(denyListExporterFactory, { path, scope: 'identity', policy, flush_interval: 10 }));
    const good = { ...fixtureFindings()[3], id: 'c0000000-0000-4000-8000-000000000001' };
    const hostile = { ...fixtureFindings()[3], id: 'c0000000-0000-4000-8000-000000000002', actor: { identity: 'x; } server { listen 80' } };
    const special = { ...fixtureFindings()[3], id: 'c0000000-0000-4000-8000-000000000003', actor: { identity: 'default' } };

    await exporter.consume(findingsBatch([good, hostile, special]));
    await waitFor(() => existsSync(path) && lines().length === 2, 5000, 'two entries');

    expect(lines()).toEqual(['\\default 1;', 'user-42 1;']);
    expect(harness.metric('watchpost_enforcement_unsafe_values_total', { exporter: 'deny_list' })).toBeGreaterThanOrEqual(1);
  });

  it('removes an address when its ban expires', async () => {
    const exporter = await harness.start(harness.create(denyListExporterFactory, { path, flush_interval: 10, policy: { ban_duration: 1000, max_duration: 1000 } }));

    await exporter.consume(findingsBatch([{ ...ban('198.51.100.1', 'd0000000-0000-4000-8000-000000000001'), action: undefined }]));
    await waitFor(() => existsSync(path) && lines().length === 1, 5000, 'the entry');
    await waitFor(() => lines().length === 0, 10_000, 'the expiry');

    expect(harness.metric('watchpost_enforcement_expired_decisions_total', { exporter: 'deny_list', reason: 'expired' })).toBe(1);
  });

  it('runs the reload command after each change', async () => {
    const marker = join(harness.directory.path, 'reloads.txt');
    const script = "require('fs').appendFileSync(process.argv[1], require('fs').readFileSync(process.argv[2], 'utf8').split('\\n').filter((l) => l && !l.startsWith('#')).length + '\\n')";
    const exporter = await harness.start(harness.create(denyListExporterFactory, { path, flush_interval: 10, reload_command: [process.execPath, '-e', script, marker, path] }));

    await exporter.consume(findingsBatch([ban('198.51.100.1', 'd0000000-0000-4000-8000-000000000001')]));
    await waitFor(() => harness.metric('watchpost_enforcement_reloads_total', { exporter: 'deny_list', outcome: 'ok' }) === 2, 5000, 'the second reload');

    expect(readFileSync(marker, 'utf8')).toBe('0\n1\n');
  });

  it('reports a failing reload command as degraded', async () => {
    const exporter = await harness.start(harness.create(denyListExporterFactory, { path, flush_interval: 10, reload_command: [process.execPath, '-e', 'process.stderr.write("config test failed"); process.exit(1)'] }));

    await exporter.consume(findingsBatch([ban('198.51.100.1', 'd0000000-0000-4000-8000-000000000001')]));
    await waitFor(() => harness.metric('watchpost_enforcement_reloads_total', { exporter: 'deny_list', outcome: 'failed' }) === 2, 5000, 'two failed reloads');

    expect(harness.host.lastStatus('deny_list')).toBe('degraded');
    const line = harness.log.lines.find((entry) => entry.msg === 'deny list written, but the reload command failed');
    expect(String(line?.err)).toContain('config test failed');
  });

  it('writes pending changes at shutdown', async () => {
    const exporter = await harness.start(harness.create(denyListExporterFactory, { path, flush_interval: 60_000 }));

    await exporter.consume(findingsBatch([ban('198.51.100.1', 'd0000000-0000-4000-8000-000000000001')]));
    await exporter.shutdown();

    expect(lines()).toEqual(['198.51.100.1 1;']);
  });

  it('leaves the file alone in dry-run mode', async () => {
    writeFileSync(path, '# Written by Watchpost (deny_list); 0 entries. The file is replaced on every change; do not edit it.\n');
    const exporter = await harness.start(harness.create(denyListExporterFactory, { path, flush_interval: 10, policy: { dry_run: true } }));

    await exporter.consume(findingsBatch(fixtureFindings()));
    await exporter.shutdown();

    expect(lines()).toEqual([]);
    expect(harness.metric('watchpost_enforcement_decisions_total', { exporter: 'deny_list', dry_run: 'true' })).toBe(2);
  });

  it('warns when the scope is not one the policy bans', () => {
    expect(configErrors('deny_list', '    path: ./deny.map\n    scope: identity')).toContain('scope identity is not among policy.scopes (ip), so the file would stay empty');
  });
});
