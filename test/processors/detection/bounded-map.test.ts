import { describe, expect, it } from 'vitest';
import { BoundedMap, ownCopy } from '../../../processors/detection/bounded-map.js';

describe('BoundedMap', () => {
  it('evicts the least recently used key past its size and counts it', () => {
    let evicted = 0;
    const map = new BoundedMap<number>(4, () => evicted++);
    for (const key of ['a', 'b', 'c', 'd']) map.set(key, 1);
    map.set('e', 1);
    expect(evicted).toBe(1);
    expect(map.get('a')).toBeUndefined();
    expect(map.size).toBe(4);
  });

  it('finds a key sliced from a longer string', () => {
    const line = `GET /orders ${'x'.repeat(4096)} 203.0.113.77 end`;
    const key = line.slice(line.indexOf('203.'), line.indexOf(' end'));
    const map = new BoundedMap<string>(8, () => undefined);
    map.set(key, 'state');
    expect(map.get('203.0.113.77')).toBe('state');
    expect([...map].map(([stored]) => stored)).toEqual(['203.0.113.77']);
  });
});

describe('ownCopy', () => {
  it('keeps the exact text, lone surrogates and empty strings included', () => {
    for (const text of ['', 'a', 'address:2001:db8::1', '\ud800 lone', 'ü'.repeat(40), 'x'.repeat(100_000)]) expect(ownCopy(text)).toBe(text);
  });
});
