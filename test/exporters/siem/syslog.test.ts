import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syslogExporterFactory } from '../../../exporters/siem/syslog/factory.js';
import { waitFor } from '../../helpers/wait.js';
import { configErrors } from '../config-errors.js';
import { ExporterHarness, findingsBatch, fixtureFindings } from '../harness.js';
import { parseCef, parseLeef, parseRfc5424 } from './parse.js';
import { SyslogStreamServer, SyslogUdpServer, TLS_CA_FILE } from './servers.js';

const NO_BATCHING = { sending_queue: { batch: { enabled: false } } };

describe('syslog exporter', () => {
  let harness: ExporterHarness;

  beforeEach(() => {
    harness = new ExporterHarness();
  });

  afterEach(async () => {
    await harness.close();
  });

  describe('rfc5424 over TCP with octet counting', () => {
    let server: SyslogStreamServer;

    beforeEach(async () => {
      server = await new SyslogStreamServer('octet_counting').start();
    });

    afterEach(async () => {
      await server.stop();
    });

    it('writes the header fields', async () => {
      const exporter = await harness.start(harness.create(syslogExporterFactory, { endpoint: server.endpoint, hostname: 'sensor-1', ...NO_BATCHING }));

      await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
      await waitFor(() => server.messages.length === 1, 5000, 'the message');

      const message = parseRfc5424(server.messages[0]);
      expect(message.priority).toBe(16 * 8 + 3);
      expect(message.version).toBe(1);
      expect(message.timestamp).toBe('2026-12-04T10:00:03.250Z');
      expect(message.hostname).toBe('sensor-1');
      expect(message.appName).toBe('watchpost');
      expect(message.procId).toBe(String(process.pid));
      expect(message.msgId).toBe('sqli');
      expect(message.msg).toBe('SQL injection in a request (high) from 203.0.113.7 on GET /products on shop-api');
    });

    it('escapes quote, backslash and bracket in structured data', async () => {
      const exporter = await harness.start(harness.create(syslogExporterFactory, { endpoint: server.endpoint, ...NO_BATCHING }));
      const finding = fixtureFindings()[1];

      await exporter.consume(findingsBatch([finding]));
      await waitFor(() => server.messages.length === 1, 5000, 'the message');

      const params = parseRfc5424(server.messages[0]).structuredData.get('watchpost@32473');
      expect(params?.get('ruleName')).toBe(finding.rule.name);
      expect(params?.get('user')).toBe('eve=admin|root\\x');
      expect(params?.get('src')).toBe('2001:db8::7');
      expect(params?.get('count')).toBe('412');
      expect(params?.get('severity')).toBe('critical');
      expect(params?.get('fingerprint')).toBe(finding.fingerprint);
      expect(params?.get('mitre')).toBe('T1110.004');
      expect(params?.has('apiKey')).toBe(false);
      expect(server.messages[0]).toContain('ruleName="Credential stuffing | many users = one client \\\\ \\"quoted\\" \\]bracket["');
    });

    it('sends a batch of findings as separate frames', async () => {
      const exporter = await harness.start(harness.create(syslogExporterFactory, { endpoint: server.endpoint }));

      await exporter.consume(findingsBatch(fixtureFindings()));
      await waitFor(() => server.messages.length === 4, 5000, 'four messages');

      expect(server.messages.map((message) => parseRfc5424(message).msgId)).toEqual(['sqli', 'credential-stuffing', 'scanner-ua', 'bola-enumeration']);
      expect(server.messages.map((message) => parseRfc5424(message).priority % 8)).toEqual([3, 2, 5, 4]);
    });

    it('reconnects after the receiver closed the connection', async () => {
      const exporter = await harness.start(harness.create(syslogExporterFactory, { endpoint: server.endpoint, ...NO_BATCHING, retry_on_failure: { initial_interval: 10, max_interval: 20 } }));
      await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
      await waitFor(() => server.messages.length === 1, 5000, 'the first message');

      server.dropConnections();
      await waitFor(() => server.connections.length === 0, 5000, 'the closed connection');
      await new Promise((resolve) => setTimeout(resolve, 50));
      await exporter.consume(findingsBatch(fixtureFindings().slice(2, 3)));
      await waitFor(() => server.messages.length === 2, 5000, 'the message after reconnecting');

      expect(parseRfc5424(server.messages[1]).msgId).toBe('scanner-ua');
    });

    it('retries while the receiver is down and delivers once it listens', async () => {
      const port = Number(server.endpoint.split(':')[1]);
      await server.stop();
      const exporter = await harness.start(harness.create(syslogExporterFactory, { endpoint: `127.0.0.1:${port}`, ...NO_BATCHING, retry_on_failure: { initial_interval: 50, max_interval: 100 } }));

      await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
      await waitFor(() => harness.host.lastStatus('syslog') === 'degraded', 5000, 'a failed attempt');
      server = await new SyslogStreamServer('octet_counting').start(port);
      await waitFor(() => server.messages.length === 1, 5000, 'the delivered message');

      expect(harness.host.lastStatus('syslog')).toBe('ok');
    });

    it('cuts messages longer than max_message_size', async () => {
      const exporter = await harness.start(harness.create(syslogExporterFactory, { endpoint: server.endpoint, max_message_size: 480, ...NO_BATCHING }));

      await exporter.consume(findingsBatch(fixtureFindings().slice(1, 2)));
      await waitFor(() => server.messages.length === 1, 5000, 'the message');

      expect(Buffer.byteLength(server.messages[0])).toBeLessThanOrEqual(480);
      expect(harness.metric('watchpost_exporter_truncated_messages_total', { exporter: 'syslog' })).toBe(1);
    });
  });

  it('sends CEF over UDP, one record per datagram', async () => {
    const server = await new SyslogUdpServer().start();
    const exporter = await harness.start(harness.create(syslogExporterFactory, { endpoint: server.endpoint, transport: 'udp', format: 'cef' }));
    const findings = fixtureFindings();

    await exporter.consume(findingsBatch(findings));
    await waitFor(() => server.messages.length === 4, 5000, 'four datagrams');
    await server.stop();

    const byId = new Map(server.messages.map((message) => {
      const header = parseRfc5424(message);
      expect(header.structuredData.size).toBe(0);
      const record = parseCef(header.msg);
      return [record.extension.get('externalId'), record];
    }));
    const sqli = byId.get(findings[0].id);
    expect(sqli?.version).toBe('0');
    expect(sqli?.vendor).toBe('Watchpost');
    expect(sqli?.signatureId).toBe('sqli');
    expect(sqli?.severity).toBe('8');
    expect(sqli?.extension.get('src')).toBe('203.0.113.7');
    expect(sqli?.extension.get('rt')).toBe(String(Date.parse(findings[0].time)));
    expect(sqli?.extension.get('requestMethod')).toBe('GET');
    expect(sqli?.extension.get('request')).toBe('/products');
    expect(sqli?.extension.get('requestClientApplication')).toBe('sqlmap/1.7.2#stable (https://sqlmap.org)');
    expect(sqli?.extension.get('cs2')).toBe('T1190');
    expect(sqli?.extension.get('cs2Label')).toBe('mitreTechnique');

    const stuffing = byId.get(findings[1].id);
    expect(stuffing?.name).toBe(findings[1].rule.name);
    expect(stuffing?.severity).toBe('10');
    expect(stuffing?.extension.has('src')).toBe(false);
    expect(stuffing?.extension.get('c6a2')).toBe('2001:db8::7');
    expect(stuffing?.extension.get('suser')).toBe('eve=admin|root\\x');
    expect(stuffing?.extension.get('cnt')).toBe('412');

    const scanner = byId.get(findings[2].id);
    expect(scanner?.extension.has('cs2Label')).toBe(false);
    expect(scanner?.extension.has('cs3Label')).toBe(false);
  });

  it('writes CEF behind an RFC 3164 header when asked', async () => {
    const server = await new SyslogStreamServer('newline').start();
    const exporter = await harness.start(harness.create(syslogExporterFactory, { endpoint: server.endpoint, format: 'cef', syslog_header: 'rfc3164', framing: 'newline', hostname: 'sensor-1', ...NO_BATCHING }));

    await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
    await waitFor(() => server.messages.length === 1, 5000, 'the message');
    await server.stop();

    const match = /^<(\d+)>(\w{3}) ([ \d]\d) (\d\d:\d\d:\d\d) (\S+) (\S+): (CEF:.*)$/.exec(server.messages[0]);
    expect(match).not.toBeNull();
    expect(match?.[1]).toBe('131');
    expect(`${match?.[2]} ${match?.[3]} ${match?.[4]}`).toBe('Dec  4 10:00:03');
    expect(match?.[5]).toBe('sensor-1');
    expect(match?.[6]).toBe(`watchpost[${process.pid}]`);
    expect(parseCef(match?.[7] ?? '').signatureId).toBe('sqli');
  });

  it('sends LEEF 2.0 with a tab delimiter', async () => {
    const server = await new SyslogStreamServer('octet_counting').start();
    const exporter = await harness.start(harness.create(syslogExporterFactory, { endpoint: server.endpoint, format: 'leef', ...NO_BATCHING }));
    const finding = fixtureFindings()[1];

    await exporter.consume(findingsBatch([finding]));
    await waitFor(() => server.messages.length === 1, 5000, 'the message');
    await server.stop();

    const record = parseLeef(parseRfc5424(server.messages[0]).msg);
    expect(record.version).toBe('LEEF:2.0');
    expect(record.vendor).toBe('Watchpost');
    expect(record.eventId).toBe('credential-stuffing');
    expect(record.delimiter).toBe('\t');
    expect(record.attributes.get('sev')).toBe('10');
    expect(record.attributes.get('src')).toBe('2001:db8::7');
    expect(record.attributes.get('usrName')).toBe('eve=admin|root\\x');
    expect(record.attributes.get('cat')).toBe('API2:2023');
    expect(record.attributes.get('devTime')).toBe('2026-12-04T10:05:00.000Z');
    expect(record.attributes.get('devTimeFormat')).toBe("yyyy-MM-dd'T'HH:mm:ss.SSSX");
    expect(record.attributes.get('ruleName')).toBe(finding.rule.name);
    expect(record.attributes.get('msg')).not.toMatch(/[\t\r\n]/);
  });

  it('sends over TLS to a server it verifies', async () => {
    const server = await new SyslogStreamServer('octet_counting', true).start();
    const exporter = await harness.start(harness.create(syslogExporterFactory, { endpoint: server.endpoint, transport: 'tls', tls: { ca_file: TLS_CA_FILE }, ...NO_BATCHING }));

    await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
    await waitFor(() => server.messages.length === 1, 5000, 'the message');
    await server.stop();

    expect(parseRfc5424(server.messages[0]).msgId).toBe('sqli');
  });

  it('refuses a TLS server it cannot verify', async () => {
    const server = await new SyslogStreamServer('octet_counting', true).start();
    const exporter = await harness.start(harness.create(syslogExporterFactory, { endpoint: server.endpoint, transport: 'tls', ...NO_BATCHING, retry_on_failure: { enabled: false } }));

    await exporter.consume(findingsBatch(fixtureFindings().slice(0, 1)));
    await waitFor(() => harness.metric('watchpost_exporter_send_failed_items_total', { exporter: 'syslog' }) === 1, 5000, 'the drop');
    await server.stop();

    expect(server.messages).toHaveLength(0);
    const drop = harness.log.lines.find((line) => line.msg === 'exporter dropped data');
    expect(String(drop?.last_error)).toContain('self-signed certificate');
  });

  it('rejects an SD-ID with a space', () => {
    const messages = configErrors('syslog', '    endpoint: 127.0.0.1:514\n    sd_id: bad id');

    expect(messages).toContain(`must be an SD-ID of 1 to 32 printable ASCII characters without '=', ' ', ']' or '"', such as watchpost@32473, got "bad id"`);
  });
});
