import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandGlob, pathMatcher, segmentMatcher } from '../../../receivers/gatewaylog/glob.js';
import { splitLines } from '../../../receivers/gatewaylog/lines.js';
import { tempDirectory } from '../../helpers/tmp.js';

describe('glob', () => {
  const directory = tempDirectory();
  const path = (name: string) => join(directory.path, name);

  beforeAll(() => {
    mkdirSync(path('nginx/site-a'), { recursive: true });
    mkdirSync(path('nginx/site-b/deep'), { recursive: true });
    for (const name of ['nginx/access.log', 'nginx/access.log.1', 'nginx/access.log.2.gz', 'nginx/error.log', 'nginx/site-a/access.log', 'nginx/site-b/deep/access.log']) writeFileSync(path(name), '');
    symlinkSync(path('nginx'), path('nginx/site-b/loop'));
  });

  afterAll(() => directory.cleanup());

  it('matches within the last segment', async () => {
    expect(await expandGlob(path('nginx/access.log*'))).toEqual([path('nginx/access.log'), path('nginx/access.log.1'), path('nginx/access.log.2.gz')]);
  });

  it('matches alternatives and classes', async () => {
    expect(await expandGlob(path('nginx/{access,error}.log'))).toEqual([path('nginx/access.log'), path('nginx/error.log')]);
    expect(await expandGlob(path('nginx/access.log.[!2]'))).toEqual([path('nginx/access.log.1')]);
  });

  it('matches directories in the middle', async () => {
    expect(await expandGlob(path('nginx/site-*/access.log'))).toEqual([path('nginx/site-a/access.log')]);
  });

  it('descends with ** without following directory links', async () => {
    expect(await expandGlob(path('nginx/**/access.log'))).toEqual([path('nginx/access.log'), path('nginx/site-a/access.log'), path('nginx/site-b/deep/access.log')]);
  });

  it('names one path when there is no glob', async () => {
    expect(await expandGlob(path('missing.log'))).toEqual([path('missing.log')]);
  });

  it('builds exclude matchers for whole paths', () => {
    expect(pathMatcher(path('**/*.gz')).test(path('nginx/access.log.2.gz'))).toBe(true);
    expect(pathMatcher(path('nginx/*.gz')).test(path('nginx/site-a/x.gz'))).toBe(false);
    expect(segmentMatcher('a.(b)+').test('a.(b)+')).toBe(true);
  });
});

describe('line splitting', () => {
  it('keeps bytes after the last newline for later', () => {
    const split = splitLines(Buffer.from('one\r\ntwo\nthr'), 100, false);

    expect(split.lines).toEqual(['one', 'two']);
    expect(split.ends).toEqual([5, 9]);
    expect(split.next).toBe(9);
  });

  it('passes over empty lines', () => {
    const split = splitLines(Buffer.from('\n\na\n\n'), 100, false);

    expect(split.lines).toEqual(['a']);
    expect(split.next).toBe(5);
  });

  it('cuts a line longer than the limit and skips the rest', () => {
    const first = splitLines(Buffer.from(`${'z'.repeat(30)}`), 10, false);
    const second = splitLines(Buffer.from('zzzz\nnext\n'), 10, first.skipping);

    expect(first.lines).toEqual(['z'.repeat(10)]);
    expect(first.skipping).toBe(true);
    expect(second.lines).toEqual(['next']);
    expect(second.skipping).toBe(false);
  });

  it('decodes UTF-8 split across a multi-byte character at the limit', () => {
    const split = splitLines(Buffer.from('éé\n'), 3, false);

    expect(split.lines).toEqual(['é\uFFFD']);
    expect(split.truncated).toBe(1);
  });
});
