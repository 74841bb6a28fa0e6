import { afterEach, describe, expect, it } from 'vitest';
import type { Finding } from '../../core/data/finding.js';
import { Daemon } from '../helpers/daemon.js';
import { HttpSink } from '../helpers/http-sink.js';
import { waitFor } from '../helpers/wait.js';
import { attackerAddress, sendAttack } from './otlp-attacks.js';

function config(webhookPort: number, webhook: string): string {
  return `
receivers:
  otlp:
    protocols:
      http: { endpoint: 127.0.0.1:0 }
processors:
  detection: {}
exporters:
  debug: { verbosity: basic }
  webhook:
    endpoint: http://127.0.0.1:${webhookPort}/hook
${webhook}
service:
  admin: { endpoint: 127.0.0.1:0 }
  pipelines:
    traces: { receivers: [otlp], processors: [detection], exporters: [debug] }
    findings: { receivers: [detection], exporters: [webhook] }
`;
}

/** Returns the client addresses of the findings in the given request bodies. */
function deliveredAddresses(bodies: Buffer[]): Set<string> {
  return new Set(bodies.map((body) => (JSON.parse(body.toString('utf8')) as Finding).actor.address ?? ''));
}

async function freePort(): Promise<number> {
  const probe = await new HttpSink().start();
  const port = Number(new URL(probe.url).port);
  await probe.stop();
  return port;
}

describe('delivery end to end', () => {
  const cleanups: (() => Promise<void>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('delivers every finding after the endpoint was down for 60 seconds', async () => {
    const port = await freePort();
    const daemon = await Daemon.start(config(port, '    retry_on_failure: { initial_interval: 1s, max_interval: 5s }'));
    cleanups.push(() => daemon.dispose());
    const endpoint = daemon.endpoint('otlp');

    const count = 50;
    for (let i = 0; i < count; i++) expect(await sendAttack(endpoint, i)).toBe(true);
    await waitFor(() => daemon.logs.some((line) => line.msg === 'send failed; will retry'), 15_000, 'failed attempts while the endpoint is down');
    await new Promise((resolve) => setTimeout(resolve, 60_000));
    const sink = await new HttpSink().start(port);
    cleanups.push(() => sink.stop());

    const expected = new Set(Array.from({ length: count }, (_, i) => attackerAddress(i)));
    await waitFor(() => [...expected].every((address) => deliveredAddresses(sink.requests.map((request) => request.body)).has(address)), 30_000, 'every finding at the endpoint');
    const metrics = await (await fetch(`http://${daemon.endpoint('admin')}/metrics`)).text();

    expect(metrics).not.toMatch(/watchpost_exporter_send_failed_items_total\{[^}]*exporter="webhook"/);
    expect(metrics).toMatch(/watchpost_exporter_sent_items_total\{exporter="webhook",signal="findings"\} 50/);
  }, 150_000);

  it('delivers every acknowledged finding after kill -9 during delivery', async () => {
    const sink = await new HttpSink().start();
    cleanups.push(() => sink.stop());
    sink.responder = () => undefined;
    const port = Number(new URL(sink.url).port);
    const first = await Daemon.start(config(port, '    timeout: 2s\n    sending_queue: { storage: lmdb, num_consumers: 4 }\n    retry_on_failure: { initial_interval: 200ms, max_interval: 1s, max_elapsed_time: 0s }'));
    let current = first;
    cleanups.push(() => current.dispose());
    const endpoint = first.endpoint('otlp');

    const acknowledged = new Set<string>();
    for (let i = 0; i < 40; i++) {
      if (await sendAttack(endpoint, i)) acknowledged.add(attackerAddress(i));
    }
    await waitFor(() => sink.requests.length >= 4, 15_000, 'deliveries in flight');
    let next = 40;
    let sending = true;
    const background = (async () => {
      while (sending) {
        const index = next++;
        if (await sendAttack(endpoint, index)) acknowledged.add(attackerAddress(index));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await first.stop('SIGKILL');
    sending = false;
    await background;

    const answered: Buffer[] = [];
    sink.responder = (request, response) => {
      answered.push(request.body);
      response.end();
    };
    current = await first.restart();
    await waitFor(() => [...acknowledged].every((address) => deliveredAddresses(answered).has(address)), 60_000, 'every acknowledged finding after the restart');

    expect(acknowledged.size).toBeGreaterThanOrEqual(40);
    expect(current.logs.some((line) => line.msg === 'resuming queued batches from disk')).toBe(true);
  }, 120_000);
});
