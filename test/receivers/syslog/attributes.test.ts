import { describe, expect, it } from 'vitest';
import { OtlpLogsEncoder } from '../../../receivers/helper/otlp-logs.js';
import { AttributeCache } from '../../../receivers/syslog/attributes.js';

describe('syslog attribute cache', () => {
  it('returns one shared attribute per value', () => {
    const cache = new AttributeCache(new OtlpLogsEncoder());

    expect(cache.string('hostname', 'gateway')).toBe(cache.string('hostname', 'gateway'));
    expect(cache.int('priority', 13)).toBe(cache.int('priority', 13));
    expect(cache.string('hostname', 'gateway')).not.toBe(cache.string('appname', 'gateway'));
    expect(cache.string('hostname', 'gateway').value?.stringValue).toBe('gateway');
    expect(cache.int('priority', 13).value?.intValue).toBe(13);
  });

  it('forgets values beyond its bound', () => {
    const cache = new AttributeCache(new OtlpLogsEncoder());
    const first = cache.string('hostname', 'host-0');

    for (let i = 1; i <= 1024; i++) cache.string('hostname', `host-${i}`);

    expect(cache.string('hostname', 'host-0')).not.toBe(first);
    expect(cache.string('hostname', 'host-1024')).toBe(cache.string('hostname', 'host-1024'));
  });

  it('does not keep long values', () => {
    const cache = new AttributeCache(new OtlpLogsEncoder());
    const long = 'h'.repeat(65);

    expect(cache.string('hostname', long)).not.toBe(cache.string('hostname', long));
    expect(cache.string('hostname', long).value?.stringValue).toBe(long);
  });
});
