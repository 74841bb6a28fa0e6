import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exporter } from '../../core/component.js';
import type { Finding } from '../../core/data/finding.js';
import { denyListExporterFactory } from '../../exporters/enforcement/deny_list/factory.js';
import { waitFor } from '../helpers/wait.js';
import { ExporterHarness, findingsBatch, fixtureFindings } from '../exporters/harness.js';
import { freePort, PeerProcess, requireProgram, waitForListener } from './peers.js';

function ban(address: string, id: string): Finding {
  return { ...fixtureFindings()[0], id, actor: { address } };
}

/** Status of a request whose client address the server reads from the `ip` query parameter. */
async function statusFor(port: number, address: string): Promise<number> {
  // The address goes unencoded: nginx and HAProxy read query parameters without percent-decoding them.
  const response = await fetch(`http://127.0.0.1:${port}/?ip=${address}`);
  await response.arrayBuffer();
  return response.status;
}

describe('deny_list exporter with nginx', () => {
  const harness = new ExporterHarness();
  const prefix = join(harness.directory.path, 'nginx');
  const mapPath = join(prefix, 'watchpost-deny.conf');
  let nginx: PeerProcess;
  let port: number;
  let exporter: Exporter;

  beforeAll(async () => {
    const program = requireProgram('nginx', 'nginx');
    port = await freePort();
    mkdirSync(join(prefix, 'logs'), { recursive: true });
    // The address comes from a query parameter so one client can stand for many; `geo` takes CIDR and single addresses.
    writeFileSync(join(prefix, 'nginx.conf'), `
daemon off;
master_process on;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp;
  proxy_temp_path ${prefix}/tmp;
  fastcgi_temp_path ${prefix}/tmp;
  uwsgi_temp_path ${prefix}/tmp;
  scgi_temp_path ${prefix}/tmp;
  geo $arg_ip $watchpost_deny {
    default 0;
    include ${mapPath};
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      if ($watchpost_deny) { return 403; }
      return 200 "ok";
    }
  }
}
`);
    writeFileSync(mapPath, '');
    nginx = new PeerProcess(program, ['-p', prefix, '-c', join(prefix, 'nginx.conf')]);
    await waitForListener(port).catch((error: unknown) => {
      throw new Error(`nginx did not start: ${nginx.output}`, { cause: error });
    });
    exporter = await harness.start(harness.create(denyListExporterFactory, {
      path: mapPath,
      flush_interval: 10,
      reload_command: [program, '-p', prefix, '-c', join(prefix, 'nginx.conf'), '-s', 'reload'],
    }));
    await exporter.consume(findingsBatch([ban('203.0.113.7', 'e0000000-0000-4000-8000-000000000001'), ban('2001:db8::7', 'e0000000-0000-4000-8000-000000000002')]));
    await waitFor(() => harness.metric('watchpost_enforcement_reloads_total', { exporter: 'deny_list', outcome: 'ok' }) >= 2, 10_000, 'the reload after the bans');
  });

  afterAll(async () => {
    await nginx?.stop();
    await harness.close();
  });

  it('denies the banned addresses from the file it included', async () => {
    // During a reload, old nginx workers may still respond to a request or two with the old list.
    await waitFor(async () => {
      for (let i = 0; i < 5; i++) if ((await statusFor(port, '203.0.113.7')) !== 403) return false;
      return true;
    }, 10_000, 'every nginx worker to load the list');

    expect(await statusFor(port, '203.0.113.7')).toBe(403);
    expect(await statusFor(port, '2001:db8::7')).toBe(403);
    expect(await statusFor(port, '192.0.2.1')).toBe(200);
  });

  it('denies a new ban after the reload command ran', async () => {
    const reloadsBefore = harness.metric('watchpost_enforcement_reloads_total', { exporter: 'deny_list', outcome: 'ok' });

    await exporter.consume(findingsBatch([ban('198.51.100.44', 'e0000000-0000-4000-8000-000000000003')]));
    await waitFor(() => harness.metric('watchpost_enforcement_reloads_total', { exporter: 'deny_list', outcome: 'ok' }) > reloadsBefore, 10_000, 'the reload');
    await waitFor(async () => (await statusFor(port, '198.51.100.44')) === 403, 10_000, 'nginx to deny the new address');

    expect(await statusFor(port, '203.0.113.7')).toBe(403);
    expect(harness.metric('watchpost_enforcement_reloads_total', { exporter: 'deny_list', outcome: 'failed' })).toBe(0);
  });
});

describe('deny_list exporter with HAProxy', () => {
  const harness = new ExporterHarness();
  const mapPath = join(harness.directory.path, 'watchpost-deny.map');
  let haproxy: PeerProcess;
  let port: number;

  beforeAll(async () => {
    const program = requireProgram('haproxy', 'haproxy');
    port = await freePort();
    const exporter = await harness.start(harness.create(denyListExporterFactory, { path: mapPath, format: 'haproxy', flush_interval: 10 }));
    await exporter.consume(findingsBatch([ban('203.0.113.7', 'f0000000-0000-4000-8000-000000000001'), ban('2001:db8::7', 'f0000000-0000-4000-8000-000000000002')]));
    await exporter.shutdown();
    const config = join(harness.directory.path, 'haproxy.cfg');
    writeFileSync(config, `
defaults
  mode http
  timeout connect 1s
  timeout client 5s
  timeout server 5s
frontend watchpost
  bind 127.0.0.1:${port}
  http-request deny deny_status 403 if { url_param(ip),map_ip(${mapPath}) -m found }
  http-request return status 200 content-type text/plain string ok
`);
    haproxy = new PeerProcess(program, ['-db', '-f', config]);
    await waitForListener(port).catch((error: unknown) => {
      throw new Error(`haproxy did not start: ${haproxy.output}`, { cause: error });
    });
  });

  afterAll(async () => {
    await haproxy?.stop();
    await harness.close();
  });

  it('denies the banned addresses from the map file', async () => {
    expect(await statusFor(port, '203.0.113.7')).toBe(403);
    expect(await statusFor(port, '2001:db8::7')).toBe(403);
    expect(await statusFor(port, '192.0.2.1')).toBe(200);
  });
});
