import { describe, expect, it } from 'vitest';
import { ENCODED, OtlpLogsEncoder } from '../../../receivers/helper/otlp-logs.js';
import { AttributeCache } from '../../../receivers/syslog/attributes.js';
import type { IKeyValue } from '../../../core/otlp/codec.js';

function encodingOf(attribute: IKeyValue): unknown {
  return (attribute as { [ENCODED]?: unknown })[ENCODED];
}

describe('syslog attribute cache', () => {
  it('encodes each value once', () => {
    const cache = new AttributeCache(new OtlpLogsEncoder());

    const first = cache.string('hostname', 'gateway');
    const second = cache.string('hostname', 'gateway');

    expect(encodingOf(first)).toBeDefined();
    expect(encodingOf(second)).toBe(encodingOf(first));
    expect(encodingOf(cache.int('priority', 13))).toBe(encodingOf(cache.int('priority', 13)));
    expect(encodingOf(cache.string('appname', 'gateway'))).not.toBe(encodingOf(first));
  });

  it('gives every record its own objects', () => {
    const cache = new AttributeCache(new OtlpLogsEncoder());

    const first = cache.string('hostname', 'gateway');
    const second = cache.string('hostname', 'gateway');

    expect(second).not.toBe(first);
    expect(second.value).not.toBe(first.value);
    expect(first.value?.stringValue).toBe('gateway');
    expect(cache.int('priority', 13).value?.intValue).toBe(13);
  });

  it('forgets values beyond its bound', () => {
    const cache = new AttributeCache(new OtlpLogsEncoder());
    const first = encodingOf(cache.string('hostname', 'host-0'));

    for (let i = 1; i <= 1024; i++) cache.string('hostname', `host-${i}`);

    expect(encodingOf(cache.string('hostname', 'host-0'))).not.toBe(first);
    expect(encodingOf(cache.string('hostname', 'host-1024'))).toBe(encodingOf(cache.string('hostname', 'host-1024')));
  });

  it('does not encode long values ahead', () => {
    const cache = new AttributeCache(new OtlpLogsEncoder());
    const long = 'h'.repeat(65);

    expect(encodingOf(cache.string('hostname', long))).toBeUndefined();
    expect(cache.string('hostname', long).value?.stringValue).toBe(long);
  });
});
