import { describe, expect, it } from 'vitest';
import { checkFormatOptions, fieldParser, FORMAT_NAMES } from '../../../receivers/helper/accesslog/formats.js';
import { accessLogAttributes } from '../../../receivers/helper/accesslog/record.js';
import { ClientResolver, splitAddressList } from '../../../receivers/helper/accesslog/client.js';
import { compileNginxFormat } from '../../../receivers/helper/accesslog/nginx.js';
import { apacheTokens } from '../../../receivers/helper/accesslog/apache.js';
import { parseCommonLogTime, parseCtime, parseIsoTime, zoneOffset } from '../../../receivers/helper/accesslog/time.js';
import { unwrapContainerLine } from '../../../receivers/helper/accesslog/container.js';
import { lineParser } from '../../../receivers/gatewaylog/worker.js';
import { anyValueToJs } from '../../../core/otlp/attributes.js';
import type { ExportLogsServiceRequest } from '../../../core/otlp/codec.js';

function attributesOf(format: string, line: string, options = {}): Record<string, unknown> {
  const fields = fieldParser(format, options)(line);
  if (!fields) throw new Error(`not parsed as ${format}: ${line}`);
  return Object.fromEntries(accessLogAttributes(fields).map((attribute) => [attribute.key, anyValueToJs(attribute.value)]));
}

const COMBINED = (address: string, forwarded: string) =>
  `${address} - - [10/Oct/2023:13:55:36 +0000] "GET /login HTTP/1.1" 401 12 "-" "curl/8.0.1" "${forwarded}"`;

describe('client address resolution', () => {
  it('ignores X-Forwarded-For from an untrusted client', () => {
    const attributes = attributesOf('nginx_combined', COMBINED('203.0.113.66', '198.51.100.1, 10.0.0.1'), { trusted_proxies: ['10.0.0.0/8'] });

    expect(attributes['client.address']).toBe('203.0.113.66');
    expect(attributes['network.peer.address']).toBeUndefined();
  });

  it('blames the right-most untrusted hop behind trusted proxies', () => {
    const attributes = attributesOf('nginx_combined', COMBINED('10.0.0.2', '6.6.6.6, 203.0.113.5, 10.0.0.9'), { trusted_proxies: ['10.0.0.0/8'] });

    expect(attributes['client.address']).toBe('203.0.113.5');
    expect(attributes['network.peer.address']).toBe('10.0.0.2');
  });

  it('keeps a spoofed left-most entry from being blamed', () => {
    const resolver = new ClientResolver(['10.0.0.0/8']);

    expect(resolver.resolve('10.0.0.2', '1.1.1.1, 203.0.113.5').address).toBe('203.0.113.5');
    expect(resolver.resolve('10.0.0.2', '127.0.0.1, 10.0.0.7, 203.0.113.5').address).toBe('203.0.113.5');
  });

  it('stops at a hop that is not an address', () => {
    const resolver = new ClientResolver(['10.0.0.0/8']);

    expect(resolver.resolve('10.0.0.2', '203.0.113.5, unknown, 10.0.0.3').address).toBe('10.0.0.3');
  });

  it('blames the left-most hop when every hop is trusted', () => {
    const resolver = new ClientResolver(['10.0.0.0/8']);

    expect(resolver.resolve('10.0.0.2', '10.1.1.1, 10.0.0.3').address).toBe('10.1.1.1');
  });

  it('reads IPv6 hops with brackets and ports', () => {
    const resolver = new ClientResolver(['2001:db8:ffff::/48']);

    expect(resolver.resolve('2001:db8:ffff::1', '[2001:db8::7]:4711, [2001:db8:ffff::2]:443').address).toBe('2001:db8::7');
  });

  it('trusts a Unix-socket peer only when configured', () => {
    expect(new ClientResolver([]).resolve('unix:', '203.0.113.5').address).toBe('unix:');
    expect(new ClientResolver(['unix:']).resolve('unix:', '203.0.113.5').address).toBe('203.0.113.5');
  });

  it('splits address lists written by different gateways', () => {
    expect(splitAddressList('"10.5.102.222, 199.96.1.1" 10.2.1.185')).toEqual(['10.5.102.222', '199.96.1.1', '10.2.1.185']);
    expect(splitAddressList('192.0.2.1:8080,[2001:db8::1]:443')).toEqual(['192.0.2.1', '2001:db8::1']);
  });

  it('rejects a trusted proxy that is not an address', () => {
    expect(checkFormatOptions('nginx_combined', { trusted_proxies: ['10.0.0.0/33'] })).toEqual([
      { option: 'trusted_proxies', message: 'trusted_proxies: "10.0.0.0/33" is not an IP address, a CIDR range or "unix:"' },
    ]);
  });
});

describe('nginx log_format', () => {
  it('reads a custom layout with braces and JSON escaping', () => {
    const format = 'escape=json ${remote_addr}|$request_time|"$request"|$status|"$http_user_agent"';
    const line = '192.0.2.8|0.250|"GET /a?q=\\u0022x HTTP/2.0"|200|"ua \\"quoted\\""';

    const attributes = attributesOf('nginx', line, { log_format: format });

    expect(attributes['client.address']).toBe('192.0.2.8');
    expect(attributes['http.server.request.duration']).toBe(0.25);
    expect(attributes['url.query']).toBe('q="x');
    expect(attributes['user_agent.original']).toBe('ua "quoted"');
  });

  it('rejects variables with no text between them', () => {
    expect(() => compileNginxFormat('$remote_addr$status')).toThrow('variables $remote_addr and $status have no text between them');
  });

  it('reports log_format problems against the option', () => {
    expect(checkFormatOptions('nginx', {})).toEqual([{ option: 'log_format', message: 'format "nginx" needs a log_format string' }]);
    expect(checkFormatOptions('envoy', { log_format: '$a' })[0].option).toBe('log_format');
  });

  it('extends a field past a quote inside the request', () => {
    const line = '192.0.2.1 - - [10/Oct/2023:13:55:36 +0000] "GET /x" y HTTP/1.1" 404 0 "-" "-"';

    const attributes = attributesOf('nginx', line, { log_format: '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"' });

    expect(attributes['url.path']).toBe('/x" y');
    expect(attributes['http.response.status_code']).toBe(404);
  });
});

describe('Apache LogFormat', () => {
  it('translates directives to template variables', () => {
    const tokens = apacheTokens('%h %{X-Forwarded-For}i %400,501{User-Agent}i %>s %D %t \\"%r\\"');
    const variables = tokens.filter((token) => token.kind === 'variable').map((token) => (token as { name: string }).name);

    expect(variables).toEqual(['remote_addr', 'http_x_forwarded_for', 'http_user_agent', 'status', 'request_time_us', 'time_local', 'request']);
  });

  it('reads a line of the combinedio nickname', () => {
    const line = '198.51.100.4 - bob [10/Oct/2000:13:55:36 -0700] "POST /api HTTP/1.1" 201 7 "-" "k6/0.50" 512 890';

    const attributes = attributesOf('apache', line, { log_format: 'combinedio' });

    expect(attributes['user.id']).toBe('bob');
    expect(attributes['http.request.size']).toBe(512);
    expect(attributes['apache.bytes_sent']).toBe('890');
  });

  it('converts %D microseconds to seconds', () => {
    const attributes = attributesOf('apache', '192.0.2.1 1500000 "GET / HTTP/1.1"', { log_format: '%h %D "%r"' });

    expect(attributes['http.server.request.duration']).toBe(1.5);
  });
});

describe('timestamps', () => {
  it('reads common-log time with its offset', () => {
    expect(parseCommonLogTime('10/Oct/2000:13:55:36 -0700')).toBe(Date.UTC(2000, 9, 10, 20, 55, 36));
  });

  it('reads ISO time with nanoseconds and an offset', () => {
    expect(parseIsoTime('2025-12-31T17:37:40.493035218+01:00')).toBeCloseTo(Date.UTC(2025, 11, 31, 16, 37, 40) + 493.035218, 3);
  });

  it('reads Apache ctime with a single-digit day', () => {
    expect(parseCtime('Wed Apr  2 16:09:40 2025')).toBe(Date.UTC(2025, 3, 2, 16, 9, 40));
  });

  it('reads zone-less times in a named zone across daylight saving', () => {
    const paris = zoneOffset('Europe/Paris');

    expect(parseIsoTime('2021-01-15 12:00:00', paris)).toBe(Date.UTC(2021, 0, 15, 11, 0, 0));
    expect(parseIsoTime('2021-07-15 12:00:00', paris)).toBe(Date.UTC(2021, 6, 15, 10, 0, 0));
  });

  it('reads zone-less times at a fixed offset', () => {
    expect(parseIsoTime('2021-07-15 12:00:00', zoneOffset('-05:30'))).toBe(Date.UTC(2021, 6, 15, 17, 30, 0));
  });

  it('rejects an unknown zone name', () => {
    expect(checkFormatOptions('nginx_error', { timezone: 'Mars/Olympus' })[0].option).toBe('timezone');
  });

  it('rejects impossible dates', () => {
    expect(parseCommonLogTime('32/Oct/2000:13:55:36 -0700')).toBeUndefined();
    expect(parseIsoTime('2000-13-01T00:00:00Z')).toBeUndefined();
  });
});

describe('container wrapping', () => {
  it('removes the CRI prefix and keeps its time', () => {
    const unwrapped = unwrapContainerLine('2026-01-24T01:34:36.743000000+00:00 stdout F 192.0.2.1 - - [x]');

    expect(unwrapped.text).toBe('192.0.2.1 - - [x]');
    expect(unwrapped.timeMs).toBe(Date.UTC(2026, 0, 24, 1, 34, 36, 743));
  });

  it("removes Docker's json-file wrapping", () => {
    const unwrapped = unwrapContainerLine(JSON.stringify({ log: '192.0.2.1 - - [x] "GET / HTTP/1.1" 200 1\n', stream: 'stdout', time: '2024-01-01T00:00:00Z' }));

    expect(unwrapped.text).toBe('192.0.2.1 - - [x] "GET / HTTP/1.1" 200 1');
    expect(unwrapped.timeMs).toBe(Date.UTC(2024, 0, 1));
  });

  it('parses a wrapped nginx line', () => {
    const attributes = attributesOf('nginx_combined', `2024-06-01T00:00:00.5Z stderr F ${COMBINED('192.0.2.77', '-')}`);

    expect(attributes['client.address']).toBe('192.0.2.77');
  });
});

describe('error logs', () => {
  it('reads an nginx basic-auth failure with server _', () => {
    const line = '2022/01/24 16:33:06 [error] 334#334: *338 user "toto": password mismatch, client: 203.0.113.9, server: _, request: "GET /admin HTTP/1.1", host: "example.com"';

    const attributes = attributesOf('nginx_error', line);

    expect(attributes['client.address']).toBe('203.0.113.9');
    expect(attributes['user.id']).toBe('toto');
    expect(attributes['http.response.status_code']).toBe(401);
    expect(attributes['url.path']).toBe('/admin');
    expect(attributes['nginx.error.kind']).toBe('auth_failure');
    expect(attributes['nginx.server_name']).toBe('_');
  });

  it('reads an nginx limit_req rejection', () => {
    const line = '2022/05/30 20:56:22 [error] 7164#7164: *38068741 limiting requests, excess: 50.416 by zone "api", client: 10.244.0.0, server: _, request: "POST /login HTTP/2.0", host: "api.example.com"';

    const attributes = attributesOf('nginx_error', line);

    expect(attributes['nginx.error.kind']).toBe('limit_req');
    expect(attributes['nginx.limit_req.zone']).toBe('api');
    expect(attributes['nginx.limit_req.excess']).toBe(50.416);
    expect(attributes['http.response.status_code']).toBe(503);
  });

  it('maps nginx levels to OTLP severity', () => {
    const fields = fieldParser('nginx_error')('2021/06/17 19:25:59 [notice] 133309#133309: signal process started');

    expect(fields?.level).toBe('notice');
    expect(fields?.message).toBe('signal process started');
  });

  it('reads an Apache password mismatch', () => {
    const line = '[Thu Oct 13 12:24:49.880562 2022] [auth_basic:error] [pid 10:tid 14] [client 2001:db8::5:50229] AH01617: user alice: authentication failure for "/private": Password Mismatch';

    const attributes = attributesOf('apache_error', line);

    expect(attributes['client.address']).toBe('2001:db8::5');
    expect(attributes['client.port']).toBe(50229);
    expect(attributes['user.id']).toBe('alice');
    expect(attributes['url.path']).toBe('/private');
    expect(attributes['http.response.status_code']).toBe(401);
  });
});

describe('HAProxy', () => {
  const message = '203.0.113.4:38862 [30/Jul/2018:09:03:52.726] www~ api/app1 0/0/1/20/22 404 168 - - ---- 6/6/0/0/0 0/0 {api.example.com} "GET /v1/users/42 HTTP/1.1"';

  it('reads a line without a syslog header', () => {
    const attributes = attributesOf('haproxy_http', message);

    expect(attributes['client.address']).toBe('203.0.113.4');
    expect(attributes['url.path']).toBe('/v1/users/42');
    expect(attributes['http.response.status_code']).toBe(404);
    expect(attributes['http.server.request.duration']).toBe(0.022);
  });

  it('reads a line behind an RFC 3164 header with a priority', () => {
    const attributes = attributesOf('haproxy_http', `<134>Jul 30 09:03:52 lb1 haproxy[32450]: ${message}`);

    expect(attributes['client.address']).toBe('203.0.113.4');
    expect(attributes['haproxy.captured_request_headers']).toBe('api.example.com');
  });

  it('keeps a request cut off without its closing quote', () => {
    const attributes = attributesOf('haproxy_http', message.replace('42 HTTP/1.1"', '4'));

    expect(attributes['http.request.method']).toBe('GET');
    expect(attributes['url.path']).toBe('/v1/users/4');
  });
});

describe('auto format', () => {
  const lines: [string, string][] = [
    ['nginx_combined', COMBINED('192.0.2.1', '-')],
    ['nginx_error', '2021/04/01 13:02:31 [error] 31#31: *1 open() "/x" failed (2: No such file or directory), client: 172.17.0.1, server: localhost, request: "POST /x HTTP/1.1"'],
    ['apache_error', '[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration: /export/home'],
    ['envoy', '[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21" "locations" "tcp://10.0.2.1:80"'],
    ['aws_alb', 'https 2021-03-16T20:20:00.135052Z app/lb/a32a 10.0.0.1:50599 10.0.0.2:80 0.001 0.052 0.000 200 200 589 2084 "POST https://a.example.com:443/x HTTP/1.1" "ua" - - - "-" "-" "-" 0 2021-03-16T20:20:00.081000Z "forward" "-" "-" "-" "-" "-" "-"'],
    ['haproxy_http', '192.0.2.5:1 [14/Jan/2015:12:48:57.127] fe be/s1 1/0/0/3/4 200 739 - - ---- 0/0/0/0/0 0/0 "GET / HTTP/1.1"'],
    ['kong_json', JSON.stringify({ request: { method: 'GET', uri: '/' }, response: { status: 200 }, client_ip: '192.0.2.1', started_at: 1 })],
    ['caddy_json', JSON.stringify({ ts: 1693840791.75, logger: 'http.log.access', request: { method: 'GET', uri: '/', remote_ip: '192.0.2.1' }, status: 200 })],
    ['traefik_json', JSON.stringify({ ClientHost: '192.0.2.1', RequestMethod: 'GET', RequestPath: '/', DownstreamStatus: 200 })],
    ['aws_apigateway_json', JSON.stringify({ requestId: 'r1', ip: '192.0.2.1', httpMethod: 'GET', status: '200' })],
    ['envoy_json', JSON.stringify({ method: 'GET', path: '/', response_code: 200, downstream_remote_address: '192.0.2.1:5' })],
    ['json', JSON.stringify({ remote_addr: '192.0.2.1', request: 'GET / HTTP/1.1', status: 200 })],
    ['traefik_clf', '192.0.2.1 - - [08/Dec/2021:09:16:05 +0000] "GET / HTTP/1.1" 200 414 "-" "-" 500 "r@docker" "http://172.17.0.3:80" 3ms'],
  ];

  for (const [format, line] of lines) {
    it(`picks ${format}`, () => {
      expect(fieldParser('auto')(line)?.format).toBe(format);
    });
  }

  it('leaves plain text unparsed', () => {
    expect(fieldParser('auto')('the quick brown fox')).toBeUndefined();
  });

  it('offers every documented format name', () => {
    for (const name of ['nginx_combined', 'nginx', 'nginx_error', 'apache_common', 'apache_combined', 'apache', 'envoy', 'envoy_json', 'kong_json', 'traefik_json', 'traefik_clf', 'haproxy_http', 'aws_alb', 'aws_apigateway_json', 'caddy_json', 'auto']) {
      expect(FORMAT_NAMES).toContain(name);
    }
  });
});

describe('hostile lines', () => {
  const formats = FORMAT_NAMES.filter((format) => format !== 'nginx' && format !== 'apache');
  const hostile = [
    `192.0.2.1 - - [10/Oct/2023:13:55:36 +0000] "${'"\\'.repeat(200_000)}" 200 1 "-" "-"`,
    `192.0.2.1 - ${'[ '.repeat(200_000)}`,
    `{"request":${'['.repeat(100_000)}`,
    `${'1.2.3.4, '.repeat(100_000)}- - [10/Oct/2023:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "-"`,
    '\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u0001\u00fc\u0003\u0003',
  ];

  for (const format of formats) {
    it(`${format} survives hostile input`, () => {
      const parse = fieldParser(format);
      for (const line of hostile) expect(() => parse(line)).not.toThrow();
    });
  }

  it('caps a forwarding chain at 64 hops', () => {
    expect(splitAddressList('1.2.3.4, '.repeat(1000)).length).toBe(64);
  });
});

describe('worker line parser', () => {
  const context = { observedMs: Date.UTC(2024, 0, 1), attributes: { 'log.file.path': '/var/log/x.log' } };

  function records(format: string, lines: string[]) {
    const result = lineParser(format, {})(lines, context);
    const request = result.request as ExportLogsServiceRequest;
    return { failed: result.failed, records: request.resourceLogs?.[0].scopeLogs?.[0].logRecords ?? [] };
  }

  it('keeps an unparsed line raw and counts it', () => {
    const { failed, records: parsed } = records('nginx_combined', ['garbage', COMBINED('192.0.2.1', '-')]);

    expect(failed).toBe(1);
    expect(parsed).toHaveLength(2);
    expect(parsed[0].body?.stringValue).toBe('garbage');
    expect(parsed[0].attributes?.map((attribute) => attribute.key)).toContain('watchpost.parse.error');
  });

  it('reads a JSON array line as one record per entry', () => {
    const entry = { request: { method: 'GET', uri: '/a' }, response: { status: 200 }, client_ip: '192.0.2.1', started_at: 1726782639000 };

    const { failed, records: parsed } = records('kong_json', [JSON.stringify([entry, { ...entry, client_ip: '192.0.2.2' }])]);

    expect(failed).toBe(0);
    expect(parsed).toHaveLength(2);
    expect(parsed[1].attributes?.find((attribute) => attribute.key === 'client.address')?.value?.stringValue).toBe('192.0.2.2');
  });

  it('names the detected format under auto', () => {
    const { records: parsed } = records('auto', [COMBINED('192.0.2.1', '-')]);

    expect(parsed[0].attributes?.find((attribute) => attribute.key === 'log.format')?.value?.stringValue).toBe('nginx_combined');
  });
});
