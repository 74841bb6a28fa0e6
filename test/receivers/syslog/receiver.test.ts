import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { retryableError } from '../../../core/errors.js';
import { waitFor } from '../../helpers/wait.js';
import { connectTcp, ReceiverHarness, sendAndClose, sendUdp } from './harness.js';
import { FIXTURES } from './corpus.js';

const TLS = join(FIXTURES, 'tls');
const line = (n: number) => `<14>1 2024-05-01T10:00:00.000001Z host1 app ${n} - - message ${n}`;

describe('syslog receiver', () => {
  let harness: ReceiverHarness | undefined;

  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  it('tcp takes several frames in one write and one frame across many writes', async () => {
    harness = await new ReceiverHarness({ tcp: { endpoint: '127.0.0.1:0' } as never }).start();
    const socket = await connectTcp(harness.tcpPort());
    const split = Buffer.from(`${line(3)}\n`);
    socket.write(`${line(1)}\n${line(2)}\n`);
    for (const byte of split) socket.write(Buffer.from([byte]));
    await sendAndClose(socket, `${line(4).length} ${line(4)}`);

    await waitFor(() => harness?.records.length === 4, 10_000, 'four records');
    expect(harness.bodies().sort()).toEqual(['message 1', 'message 2', 'message 3', 'message 4']);
    expect(harness.records[0].attributes['network.peer.address']).toBe('127.0.0.1');
    expect(harness.records[0].attributes['network.transport']).toBe('tcp');
    expect(harness.records[0].attributes.proc_id).toBeDefined();
  });

  it('tcp keeps LF and invalid UTF-8 inside an octet-counted frame', async () => {
    harness = await new ReceiverHarness({ tcp: { endpoint: '127.0.0.1:0' } as never }).start();
    const message = Buffer.concat([Buffer.from('<13>1 - host app - - - GET /..'), Buffer.from([0xc0, 0xae]), Buffer.from('/etc/passwd\nsecond line')]);
    await sendAndClose(await connectTcp(harness.tcpPort()), `${message.length} `, message);

    await waitFor(() => harness?.records.length === 1, 10_000, 'one record');
    expect(harness.records[0].body).toBe('GET /..\ufffd\ufffd/etc/passwd\nsecond line');
    expect(harness.records[0].attributes['log.record.original']).toBe('<13>1 - host app - - - GET /..\\xC0\\xAE/etc/passwd\nsecond line');
  });

  it('udp takes one message per datagram with the sender address', async () => {
    harness = await new ReceiverHarness({ udp: { endpoint: '127.0.0.1:0' } as never }).start();
    await sendUdp(harness.udpPort(), '<34>Oct 11 22:14:15 mymachine su: failed\n', line(7));

    await waitFor(() => harness?.records.length === 2, 10_000, 'two records');
    const su = harness.records.find((record) => record.attributes.appname === 'su');
    expect(su?.body).toBe('failed');
    expect(su?.attributes['network.transport']).toBe('udp');
    expect(typeof su?.attributes['network.peer.port']).toBe('number');
  });

  it('truncates a long message to one record with its head', async () => {
    harness = await new ReceiverHarness({ tcp: { endpoint: '127.0.0.1:0' } as never, udp: { endpoint: '127.0.0.1:0' } as never, max_message_size: 1024 }).start();
    const long = `<13>1 - host app - - - ${'x'.repeat(5000)}`;
    await sendAndClose(await connectTcp(harness.tcpPort()), `${long}\n${line(1)}\n`, `${long.length} ${long}`, `${line(2)}\n`);
    await sendUdp(harness.udpPort(), long);

    await waitFor(() => harness?.records.length === 5, 10_000, 'five records');
    const truncated = harness.records.filter((record) => record.attributes['watchpost.syslog.truncated'] === true);
    expect(truncated).toHaveLength(3);
    for (const record of truncated) expect(record.body).toBe('x'.repeat(1024 - '<13>1 - host app - - - '.length));
    expect(truncated.map((record) => record.attributes['watchpost.syslog.original_size']).sort()).toEqual([long.length, long.length, undefined]);
    expect(harness.bodies()).toEqual(expect.arrayContaining(['message 1', 'message 2']));
    expect(harness.counter('watchpost_syslog_truncated_messages_total', { transport: 'tcp' })).toBe(2);
    expect(harness.counter('watchpost_syslog_truncated_messages_total', { transport: 'udp' })).toBe(1);
  });

  it('survives malformed streams and counts them', async () => {
    harness = await new ReceiverHarness({ tcp: { endpoint: '127.0.0.1:0' } as never, max_message_size: 64 * 1024 }).start();
    const port = harness.tcpPort();
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256));
    await sendAndClose(await connectTcp(port), garbage);
    await sendAndClose(await connectTcp(port), '999999 <13>1 - host app - - - short');
    await sendAndClose(await connectTcp(port), `${line(1)}\n<13>1 - host app - - - cut mid-fra`);
    const twoMiB = `<13>1 - host app - - - ${'y'.repeat(2 * 1024 * 1024)}\n`;
    await sendAndClose(await connectTcp(port), twoMiB, `${line(2)}\n`);
    await sendAndClose(await connectTcp(port), `${line(3)}\n`);

    // Batches of different connections may finish in any order, so wait for the last counter too.
    await waitFor(() => ['message 1', 'message 2', 'message 3', 'short', 'cut mid-fra'].every((body) => harness?.bodies().includes(body)), 10_000, 'the messages around the malformed streams');
    await waitFor(() => (harness?.counter('watchpost_receiver_parse_failures_total', { format: 'syslog' }) ?? 0) > 0, 10_000, 'counted parse failures');
    expect(harness.bodies()).toEqual(expect.arrayContaining(['message 1', 'message 2', 'message 3', 'short', 'cut mid-fra']));
    expect(harness.records.filter((record) => record.body.startsWith('yyyy'))).toHaveLength(1);
    expect(harness.counter('watchpost_syslog_framing_errors_total', { reason: 'incomplete_frame' })).toBe(1);
    expect(harness.counter('watchpost_syslog_framing_errors_total', { reason: 'missing_trailer' })).toBeGreaterThanOrEqual(2);
    expect(harness.counter('watchpost_receiver_parse_failures_total', { format: 'syslog' })).toBeGreaterThan(0);
  });

  it('stops reading while admission control refuses', async () => {
    harness = await new ReceiverHarness({ tcp: { endpoint: '127.0.0.1:0' } as never }).start();
    harness.admission.refuse('memory_limiter', 'memory is above the limit');
    const socket = await connectTcp(harness.tcpPort());
    socket.write(`${line(1)}\n`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(harness.records).toHaveLength(0);

    harness.admission.admit('memory_limiter');
    await sendAndClose(socket, `${line(2)}\n`);
    await waitFor(() => harness?.records.length === 2, 10_000, 'both records after admission');
    expect(harness.bodies().sort()).toEqual(['message 1', 'message 2']);
  });

  it('retries batches the pipeline refuses for load, delivering each message once', async () => {
    harness = await new ReceiverHarness({ tcp: { endpoint: '127.0.0.1:0' } as never, max_batch_messages: 10 }).start();
    let refusals = 3;
    harness.consume = async () => {
      if (refusals-- > 0) throw retryableError('WP_ERR_EXPORTER_QUEUE_FULL', 'queue is full');
    };
    const messages = Array.from({ length: 200 }, (_, i) => `${line(i)}\n`).join('');
    await sendAndClose(await connectTcp(harness.tcpPort()), messages);

    await waitFor(() => harness?.records.length === 200, 20_000, '200 records');
    expect(new Set(harness.bodies()).size).toBe(200);
    expect(harness.counter('watchpost_syslog_dropped_messages_total', { transport: 'tcp', reason: 'pipeline_rejected' })).toBe(0);
  });

  it('counts udp datagrams dropped while admission refuses', async () => {
    harness = await new ReceiverHarness({ udp: { endpoint: '127.0.0.1:0' } as never }).start();
    harness.admission.refuse('memory_limiter', 'memory is above the limit');
    await sendUdp(harness.udpPort(), line(1), line(2));
    await waitFor(() => harness?.counter('watchpost_syslog_dropped_messages_total', { transport: 'udp', reason: 'refused' }) === 2, 10_000, 'two counted drops');
    expect(harness.records).toHaveLength(0);
  });

  it('tls with client certificates accepts a verified client and refuses others', async () => {
    harness = await new ReceiverHarness({
      tcp: { endpoint: '127.0.0.1:0', tls: { cert_file: join(TLS, 'server.pem'), key_file: join(TLS, 'server.key'), client_ca_file: join(TLS, 'ca.pem') } } as never,
    }).start();
    const port = harness.tcpPort();
    const client = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(join(TLS, 'ca.pem')), cert: readFileSync(join(TLS, 'client.pem')), key: readFileSync(join(TLS, 'client.key')) });
    await new Promise((resolve, reject) => client.once('secureConnect', resolve).once('error', reject));
    await sendAndClose(client as never, `${line(1)}\n`);
    await waitFor(() => harness?.records.length === 1, 10_000, 'the TLS record');

    const anonymous = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(join(TLS, 'ca.pem')) });
    anonymous.on('error', () => undefined);
    anonymous.write(`${line(2)}\n`);
    await waitFor(() => harness?.counter('watchpost_syslog_connections_refused_total', { reason: 'tls_handshake' }) === 1, 10_000, 'the refused handshake');
    anonymous.destroy();
    expect(harness.bodies()).toEqual(['message 1']);
  });

  it('reads nginx access lines carried in syslog with their raw bytes', async () => {
    harness = await new ReceiverHarness({ udp: { endpoint: '127.0.0.1:0' } as never, access_log: { format: 'nginx_combined', log_format: '' } }).start();
    const access = Buffer.concat([
      Buffer.from('<190>May  1 10:00:00 web1 nginx: 198.51.100.7 - - [01/May/2024:10:00:00 +0000] "GET /static/..'),
      Buffer.from([0xc0, 0xae]),
      Buffer.from('/etc/passwd HTTP/1.1" 404 153 "-" "curl/8.5.0"'),
    ]);
    await sendUdp(harness.udpPort(), access);

    await waitFor(() => harness?.records.length === 1, 10_000, 'the access record');
    const attributes = harness.records[0].attributes;
    expect(attributes.appname).toBe('nginx');
    expect(attributes['http.request.method']).toBe('GET');
    expect(attributes['url.path']).toBe('/static/..%C0%AE/etc/passwd');
    expect(attributes['client.address']).toBe('198.51.100.7');
    expect(attributes['http.response.status_code']).toBe(404);
  });
});
