import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { textChunks } from '../../core/cli/input.js';
import { semiSpaceChosen } from '../../core/cli/heap.js';
import { splitLines } from '../../core/pool/text.js';
import { tempDirectory } from '../helpers/tmp.js';

async function linesOf(file: string, chunkBytes: number): Promise<{ lines: string[]; chunks: number; bytes: number }> {
  const lines: string[] = [];
  let chunks = 0;
  let bytes = 0;
  for await (const chunk of textChunks([file], chunkBytes, (count) => { bytes += count; })) {
    chunks++;
    expect(chunk.bytes.length).toBeGreaterThan(0);
    lines.push(...splitLines(chunk.bytes));
  }
  return { lines, chunks, bytes };
}

describe('text chunks for replay', () => {
  const temp = tempDirectory('watchpost-input-');
  const directory = temp.path;
  afterAll(() => temp.cleanup());

  it('gives every line once, whole, whatever the chunk size', async () => {
    const written = Array.from({ length: 500 }, (_, index) => `line ${index} ${'x'.repeat(index % 37)} é ✓`);
    const file = join(directory, 'lines.log');
    const text = `${written.join('\n')}\n`;
    writeFileSync(file, text);
    for (const chunkBytes of [16, 100, 1000, 1 << 20]) {
      const read = await linesOf(file, chunkBytes);
      expect(read.lines).toEqual(written);
      expect(read.bytes).toBe(Buffer.byteLength(text));
      if (chunkBytes === 1 << 20) expect(read.chunks).toBe(1);
    }
  });

  it('splits at CRLF, CR and file end', async () => {
    const file = join(directory, 'breaks.log');
    writeFileSync(file, 'first\r\nsecond\rthird\n\n\nfourth');
    expect((await linesOf(file, 4)).lines).toEqual(['first', 'second', 'third', 'fourth']);
  });

  it('cuts a line longer than the partial-line bound instead of holding it whole', async () => {
    const file = join(directory, 'long.log');
    const long = 'a'.repeat(17 * 1024 * 1024);
    writeFileSync(file, `${long}\nshort\n`);
    const read = await linesOf(file, 1 << 20);
    expect(read.lines.at(-1)).toBe('short');
    expect(read.lines.length).toBeGreaterThan(2);
    expect(read.lines.slice(0, -1).join('')).toBe(long);
  });

  it('reads an empty file as no chunks', async () => {
    const file = join(directory, 'empty.log');
    writeFileSync(file, '');
    expect(await linesOf(file, 1024)).toEqual({ lines: [], chunks: 0, bytes: 0 });
  });
});

describe('semi-space size for batch commands', () => {
  it('counts a size the user chose in the node arguments or NODE_OPTIONS', () => {
    expect(semiSpaceChosen([], undefined)).toBe(false);
    expect(semiSpaceChosen(['--import', 'tsx'], '--max-old-space-size=512')).toBe(false);
    expect(semiSpaceChosen(['--max-semi-space-size=32'], undefined)).toBe(true);
    expect(semiSpaceChosen([], '--enable-source-maps --max-semi-space-size=8')).toBe(true);
  });
});
