import { describe, expect, it } from 'vitest';
import type { ExportLogsServiceRequest } from '../../../core/otlp/codec.js';
import { globMatcher } from '../../../receivers/syslog/glob.js';
import { timeToNanos } from '../../../receivers/syslog/record.js';
import { frameParser } from '../../../receivers/syslog/worker.js';
import { parseOne } from './records.js';

describe('syslog parser options', () => {
  it('protocol none reads only the PRI', () => {
    const record = parseOne('<34>Oct 11 22:14:15 host su: text', { protocol: 'none' });

    expect(record.body).toBe('Oct 11 22:14:15 host su: text');
    expect(record.attributes.priority).toBe(34);
    expect(record.attributes.appname).toBeUndefined();
  });

  it('protocol none leaves a message without PRI without severity', () => {
    const record = parseOne('plain text', { protocol: 'none' });

    expect(record.body).toBe('plain text');
    expect(record.attributes.priority).toBeUndefined();
    expect(record.attributes.facility).toBeUndefined();
    expect(record.severityNumber).toBe(0);
    expect(record.severityText).toBe('');
  });

  it('missing PRI reads as 13 by default', () => {
    const record = parseOne('Oct 11 22:14:15 host su: text', { protocol: 'rfc3164' });

    expect(record.attributes.priority).toBe(13);
    expect(record.severityText).toBe('notice');
  });

  it('allow_skip_pri_header leaves the priority unset', () => {
    const record = parseOne('Oct 11 22:14:15 host su: text', { protocol: 'rfc3164', allow_skip_pri_header: true });

    expect(record.attributes.priority).toBeUndefined();
    expect(record.severityNumber).toBe(0);
    expect(record.attributes.appname).toBe('su');
    expect(record.attributes['watchpost.parse.error']).toBeUndefined();
  });

  it('expect_hostname false reads the word after the timestamp as the TAG', () => {
    const record = parseOne('<13>Oct 11 22:14:15 su: text', { rfc3164: { expect_hostname: false } });

    expect(record.attributes.hostname).toBeUndefined();
    expect(record.attributes.appname).toBe('su');
    expect(record.body).toBe('text');
  });

  it('bad_hostnames turns a matching word into the TAG', () => {
    const options = { rfc3164: { bad_hostnames: ['ctld*', '%*'] } };

    const bad = parseOne('<13>Oct 11 22:14:15 ctld snmpd[12]: up', options);
    const good = parseOne('<13>Oct 11 22:14:15 router snmpd[12]: up', options);

    expect(bad.attributes.hostname).toBeUndefined();
    expect(bad.attributes.appname).toBe('ctld');
    expect(bad.body).toBe('snmpd[12]: up');
    expect(good.attributes.hostname).toBe('router');
    expect(good.attributes.appname).toBe('snmpd');
  });

  it('tag_requires_colon keeps a bare word in the body', () => {
    const options = { rfc3164: { tag_requires_colon: true } };

    const bare = parseOne('<13>Oct 11 22:14:15 host Use the BFG!', options);
    const tagged = parseOne('<13>Oct 11 22:14:15 host sshd[7]: Accepted', options);
    const pidOnly = parseOne('<13>Oct 11 22:14:15 host sshd[7] Accepted', options);

    expect(bare.attributes.appname).toBeUndefined();
    expect(bare.body).toBe('Use the BFG!');
    expect(tagged.attributes.appname).toBe('sshd');
    expect(tagged.attributes.proc_id).toBe('7');
    expect(pidOnly.attributes.appname).toBeUndefined();
    expect(pidOnly.body).toBe('sshd[7] Accepted');
  });

  it('a bare word after the hostname is the TAG by default', () => {
    const record = parseOne('<13>Oct 11 22:14:15 host Use the BFG!');

    expect(record.attributes.appname).toBe('Use');
    expect(record.body).toBe('the BFG!');
  });

  it('cisco_ios false leaves the IOS prefix in the message', () => {
    const message = '<189>123: router1: *Mar  1 18:46:11: %SYS-5-CONFIG_I: Configured';

    const ios = parseOne(message);
    const plain = parseOne(message, { rfc3164: { cisco_ios: false } });

    expect(ios.attributes.sequence_number).toBe('123');
    expect(ios.attributes.hostname).toBe('router1');
    expect(plain.attributes.sequence_number).toBeUndefined();
    expect(plain.attributes.hostname).toBeUndefined();
    expect(plain.body).toBe('123: router1: *Mar  1 18:46:11: %SYS-5-CONFIG_I: Configured');
  });

  it('headerless content keeps the text and reads a leading TAG:', () => {
    const text = parseOne('<13>The appliance is rebooting');
    const tagged = parseOne('<27>xapi: [error] connection died');

    expect(text.attributes.appname).toBeUndefined();
    expect(text.body).toBe('The appliance is rebooting');
    expect(tagged.attributes.appname).toBe('xapi');
    expect(tagged.body).toBe('[error] connection died');
  });

  it('headerless tag reads the first word as the TAG', () => {
    const record = parseOne('<13>program hello world', { rfc3164: { headerless: 'tag' } });

    expect(record.attributes.appname).toBe('program');
    expect(record.attributes.hostname).toBeUndefined();
    expect(record.body).toBe('hello world');
  });

  it('headerless hostname_and_tag reads the first two words', () => {
    const options = { rfc3164: { headerless: 'hostname_and_tag' as const } };

    const record = parseOne('<13>gateway sshd: login', options);
    const lastMessage = parseOne('<13>last message repeated 5 times', options);
    const leadingSpace = parseOne('<14> 05/21/2017:00:00:00 GMT text', options);

    expect(record.attributes.hostname).toBe('gateway');
    expect(record.attributes.appname).toBe('sshd');
    expect(record.body).toBe('login');
    expect(lastMessage.attributes.hostname).toBeUndefined();
    expect(lastMessage.body).toBe('last message repeated 5 times');
    expect(leadingSpace.attributes.appname).toBeUndefined();
    expect(leadingSpace.body).toBe(' 05/21/2017:00:00:00 GMT text');
  });
});

describe('rfc5424 limits and escapes', () => {
  it('cuts an over-long APP-NAME and keeps the whole text', () => {
    const appname = 'a'.repeat(49);
    const message = `<13>1 2024-05-01T10:00:00Z host ${appname} - - - text`;

    const record = parseOne(message, { protocol: 'rfc5424' });

    expect(record.attributes.appname).toBe('a'.repeat(48));
    expect(String(record.attributes['watchpost.parse.error'])).toContain('APP-NAME is longer than 48 characters');
    expect(record.attributes['log.record.original']).toBe(message);
    expect(record.body).toBe('text');
  });

  it('keeps an invalid escape as written and reports it', () => {
    const record = parseOne('<13>1 - host app - - [meta path="C:\\temp"] text', { protocol: 'rfc5424' });

    expect(record.attributes.structured_data).toEqual({ meta: { path: 'C:\\temp' } });
    expect(String(record.attributes['watchpost.parse.error'])).toContain('invalid escape sequence');
    expect(record.body).toBe('text');
  });
});

describe('rfc5424 structured data', () => {
  it('keeps __proto__ as an ordinary SD-ID and PARAM-NAME', () => {
    const parse = frameParser({ protocol: 'rfc5424', location: 'UTC', allow_skip_pri_header: false });
    const bytes = Buffer.from('<13>1 - host app - - [__proto__ __proto__="x" a="1"][b c="2"] text');

    const request = parse({ bytes, ends: Uint32Array.of(bytes.length) }, { observedMs: 0 }).request as ExportLogsServiceRequest;
    const record = request.resourceLogs?.[0].scopeLogs?.[0].logRecords?.[0];
    const data = record?.attributes?.find((attribute) => attribute.key === 'structured_data')?.value?.kvlistValue?.values ?? [];

    expect(data.map((element) => element.key)).toEqual(['__proto__', 'b']);
    expect(data[0].value?.kvlistValue?.values?.map((param) => [param.key, param.value?.stringValue])).toEqual([['__proto__', 'x'], ['a', '1']]);
    expect(({} as Record<string, unknown>).a).toBeUndefined();
  });
});

describe('record time', () => {
  it.each([0, 1, 59, 65535, 65536, 1714557600, 4102444800, 18_446_744_072])('converts %i seconds exactly', (seconds) => {
    for (const nanos of [0, 1, 999_999_999]) {
      const expected = BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
      expect(BigInt(timeToNanos({ seconds, nanos }).toString())).toBe(expected);
    }
  });

  it.each([
    ['<13>1 1969-12-31T23:59:59Z host app - - - before'],
    ['<13>1 9999-12-31T23:59:59Z host app - - - after'],
  ])('takes the receive time for %s', (message) => {
    const record = parseOne(message, { protocol: 'rfc5424' });

    expect(record.timeNanos).toBe(record.observedNanos);
    expect(String(record.attributes['watchpost.parse.error'])).toContain('outside 1970-2554');
    expect(record.attributes.hostname).toBe('host');
  });
});

describe('glob matcher', () => {
  it.each([
    ['ctld*', 'ctld', true],
    ['ctld*', 'ctld01', true],
    ['ctld*', 'xctld', false],
    ['*.local', 'host.local', true],
    ['h?st', 'host', true],
    ['h?st', 'hoost', false],
    ['*a*b', 'aaab', true],
    ['*a*b', 'aaac', false],
    ['', '', true],
  ])('%s on %s is %s', (pattern, word, expected) => {
    expect(globMatcher(pattern)(word)).toBe(expected);
  });

  it('answers a many-star pattern on a long word', () => {
    expect(globMatcher('*a*a*a*a*a*a*b')('a'.repeat(255))).toBe(false);
  });
});
