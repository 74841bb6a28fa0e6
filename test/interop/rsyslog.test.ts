import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Exporter } from '../../core/component.js';
import type { Finding } from '../../core/data/finding.js';
import { syslogExporterFactory } from '../../exporters/siem/syslog/factory.js';
import { tempDirectory } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { ExporterHarness, findingsBatch, fixtureFindings } from '../exporters/harness.js';
import { parseCef, parseLeef, parseRfc5424 } from '../exporters/siem/parse.js';
import { freePort, PeerProcess, requirePackage, requireProgram, waitForListener } from './peers.js';

const TLS_DIRECTORY = resolve(import.meta.dirname, '..', 'fixtures', 'exporters', 'tls');

/** One message as rsyslog parsed it, written by the JSON template below. */
interface Received {
  input: string;
  pri: string;
  version: string;
  timestamp: string;
  hostname: string;
  appname: string;
  procid: string;
  msgid: string;
  sd: string;
  msg: string;
}

/**
 * Returns an rsyslog configuration with three listeners on 127.0.0.1 (TCP, TCP with TLS, and UDP) that
 * writes every message's parsed fields as one JSON object per line. rsyslog escapes control
 * characters on receive by default, which would turn LEEF's tab delimiter into `#011`, so
 * `parser.escapeControlCharacterTab` is off.
 */
function rsyslogConfig(directory: string, ports: Record<'tcp' | 'tls' | 'udp', number>): string {
  return `
global(
  workDirectory="${directory}"
  parser.escapeControlCharacterTab="off"
  defaultNetstreamDriverCAFile="${join(TLS_DIRECTORY, 'server.crt')}"
  defaultNetstreamDriverCertFile="${join(TLS_DIRECTORY, 'server.crt')}"
  defaultNetstreamDriverKeyFile="${join(TLS_DIRECTORY, 'server.key')}"
)
module(load="imtcp" maxSessions="100")
module(load="imudp")
input(type="imtcp" address="127.0.0.1" port="${ports.tcp}" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="${ports.tls}" ruleset="tls" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imudp" address="127.0.0.1" port="${ports.udp}" ruleset="udp")
template(name="fields" type="list" option.json="on") {
  constant(value="{\\"input\\":\\"") property(name="$!input")
  constant(value="\\",\\"pri\\":\\"") property(name="pri")
  constant(value="\\",\\"version\\":\\"") property(name="protocol-version")
  constant(value="\\",\\"timestamp\\":\\"") property(name="timereported" dateFormat="rfc3339")
  constant(value="\\",\\"hostname\\":\\"") property(name="hostname")
  constant(value="\\",\\"appname\\":\\"") property(name="app-name")
  constant(value="\\",\\"procid\\":\\"") property(name="procid")
  constant(value="\\",\\"msgid\\":\\"") property(name="msgid")
  constant(value="\\",\\"sd\\":\\"") property(name="structured-data")
  constant(value="\\",\\"msg\\":\\"") property(name="msg")
  constant(value="\\"}\\n")
}
ruleset(name="tcp") { set $!input = "tcp"; action(type="omfile" file="${directory}/received.jsonl" template="fields") }
ruleset(name="tls") { set $!input = "tls"; action(type="omfile" file="${directory}/received.jsonl" template="fields") }
ruleset(name="udp") { set $!input = "udp"; action(type="omfile" file="${directory}/received.jsonl" template="fields") }
`;
}

describe('syslog exporter to rsyslog', () => {
  const directory = tempDirectory('watchpost-rsyslog-');
  const ports = { tcp: 0, tls: 0, udp: 0 };
  let rsyslog: PeerProcess;
  let harness: ExporterHarness;

  beforeAll(async () => {
    const program = requireProgram('rsyslogd', 'rsyslog');
    requirePackage('rsyslog-gnutls');
    ports.tcp = await freePort();
    ports.tls = await freePort();
    ports.udp = await freePort();
    writeFileSync(join(directory.path, 'rsyslog.conf'), rsyslogConfig(directory.path, ports));
    rsyslog = new PeerProcess(program, ['-n', '-f', join(directory.path, 'rsyslog.conf'), '-i', join(directory.path, 'rsyslogd.pid')]);
    await waitForListener(ports.tcp).catch((error: unknown) => {
      throw new Error(`rsyslogd did not start: ${rsyslog.output}`, { cause: error });
    });
    await waitForListener(ports.tls);
  });

  afterAll(async () => {
    await rsyslog?.stop();
    directory.cleanup();
  });

  beforeEach(async () => {
    await harness?.close();
    harness = new ExporterHarness();
  });

  afterAll(async () => {
    await harness?.close();
  });

  function received(input: string): Received[] {
    const path = join(directory.path, 'received.jsonl');
    if (!existsSync(path)) return [];
    // rsyslog's JSON escaping leaves tabs as they are, which JSON.parse rejects inside strings.
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean).map((line) => line.replace(/\t/g, '\\t'));
    return lines.map((line) => JSON.parse(line) as Received).filter((entry) => entry.input === input);
  }

  async function send(config: Record<string, unknown>, findings: Finding[]): Promise<Exporter> {
    const exporter = await harness.start(harness.create(syslogExporterFactory, { hostname: 'sensor-1', sending_queue: { batch: { enabled: false } }, ...config }));
    await exporter.consume(findingsBatch(findings));
    return exporter;
  }

  it('parses RFC 5424 over TCP with octet counting field by field', async () => {
    const findings = fixtureFindings();
    await send({ endpoint: `127.0.0.1:${ports.tcp}` }, findings);

    const messages = await waitFor(() => (received('tcp').length === 4 ? received('tcp') : undefined), 15_000, 'four messages in rsyslog');

    expect(messages.map((message) => message.msgid)).toEqual(['sqli', 'credential-stuffing', 'scanner-ua', 'bola-enumeration']);
    const [sqli, stuffing] = messages;
    expect(sqli.pri).toBe('131');
    expect(sqli.version).toBe('1');
    expect(sqli.timestamp).toBe('2026-12-04T10:00:03.250Z');
    expect(sqli.hostname).toBe('sensor-1');
    expect(sqli.appname).toBe('watchpost');
    expect(sqli.procid).toBe(String(process.pid));
    expect(sqli.msg).toBe('SQL injection in a request (high) from 203.0.113.7 on GET /products on shop-api');
    const sd = parseRfc5424(`<0>1 - - - - - ${stuffing.sd} -`).structuredData.get('watchpost@32473');
    expect(sd?.get('ruleName')).toBe(findings[1].rule.name);
    expect(sd?.get('user')).toBe('eve=admin|root\\x');
    expect(sd?.get('src')).toBe('2001:db8::7');
    expect(sd?.get('count')).toBe('412');
    expect(stuffing.pri).toBe('130');
  });

  it('parses RFC 5424 over TLS', async () => {
    await send({ endpoint: `127.0.0.1:${ports.tls}`, transport: 'tls', tls: { ca_file: join(TLS_DIRECTORY, 'server.crt') } }, fixtureFindings().slice(0, 1));

    const [message] = await waitFor(() => (received('tls').length === 1 ? received('tls') : undefined), 15_000, 'the message in rsyslog');

    expect(message.msgid).toBe('sqli');
    expect(message.sd.startsWith('[watchpost@32473 id="')).toBe(true);
  });

  it('parses CEF over UDP field by field', async () => {
    const findings = fixtureFindings();
    await send({ endpoint: `127.0.0.1:${ports.udp}`, transport: 'udp', format: 'cef' }, findings);

    const messages = await waitFor(() => (received('udp').length === 4 ? received('udp') : undefined), 15_000, 'four datagrams in rsyslog');

    const records = new Map(messages.map((message) => {
      const record = parseCef(message.msg);
      return [record.extension.get('externalId'), { message, record }];
    }));
    const sqli = records.get(findings[0].id);
    expect(sqli?.message.sd).toBe('-');
    expect(sqli?.message.msgid).toBe('sqli');
    expect(sqli?.record.vendor).toBe('Watchpost');
    expect(sqli?.record.signatureId).toBe('sqli');
    expect(sqli?.record.severity).toBe('8');
    expect(sqli?.record.extension.get('src')).toBe('203.0.113.7');
    expect(sqli?.record.extension.get('request')).toBe('/products');
    const stuffing = records.get(findings[1].id);
    expect(stuffing?.record.name).toBe(findings[1].rule.name);
    expect(stuffing?.record.extension.get('suser')).toBe('eve=admin|root\\x');
    expect(stuffing?.record.extension.get('c6a2')).toBe('2001:db8::7');
    expect(stuffing?.record.extension.get('msg')).toBe('Credential stuffing | many users = one client \\ "quoted" ]bracket[ (critical, 412 events) from 2001:db8::7 on POST /login on auth');
  });

  it('parses LEEF 2.0 over TCP with newline framing', async () => {
    const findings = fixtureFindings().slice(1, 2);
    await send({ endpoint: `127.0.0.1:${ports.tcp}`, format: 'leef', framing: 'newline' }, findings);

    const message = await waitFor(() => received('tcp').find((entry) => entry.msg.startsWith('LEEF:')), 15_000, 'the LEEF message in rsyslog');

    const record = parseLeef(message.msg);
    expect(record.eventId).toBe('credential-stuffing');
    expect(record.attributes.get('src')).toBe('2001:db8::7');
    expect(record.attributes.get('usrName')).toBe('eve=admin|root\\x');
    expect(record.attributes.get('sev')).toBe('10');
  });
});
