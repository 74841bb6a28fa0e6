/** Complete lines found in a chunk, each with the chunk offset just past its newline. */
export interface SplitLines {
  lines: string[];
  /** `ends[i]` is where the bytes of `lines[i]` end, newline included, relative to the chunk. */
  ends: number[];
  /** The offset reading continues from: past the last newline, or past the chunk when a long line is skipped. */
  next: number;
  /** True when the chunk ended inside an over-long line whose rest must be skipped. */
  skipping: boolean;
  /** Lines cut to the maximum length. */
  truncated: number;
}

/**
 * Splits a chunk read from a file into lines at `\n`, dropping a `\r` before it. A line longer
 * than `maxLineBytes` is cut to that many bytes and the rest of it skipped, also across chunks
 * (`skipping`). Bytes after the last newline stay unconsumed unless they already exceed the
 * limit, so a line still being written is read whole on a later poll.
 */
export function splitLines(chunk: Buffer, maxLineBytes: number, skipping: boolean): SplitLines {
  const result: SplitLines = { lines: [], ends: [], next: 0, skipping, truncated: 0 };
  let start = 0;
  if (result.skipping) {
    const newline = chunk.indexOf(0x0a);
    if (newline < 0) {
      result.next = chunk.length;
      return result;
    }
    result.skipping = false;
    start = newline + 1;
  }
  for (let newline = chunk.indexOf(0x0a, start); newline >= 0; newline = chunk.indexOf(0x0a, start)) {
    let end = newline > start && chunk[newline - 1] === 0x0d ? newline - 1 : newline;
    if (end - start > maxLineBytes) {
      end = start + maxLineBytes;
      result.truncated++;
    }
    if (end > start) {
      result.lines.push(chunk.toString('utf8', start, end));
      result.ends.push(newline + 1);
    }
    start = newline + 1;
  }
  result.next = start;
  if (chunk.length - start > maxLineBytes) {
    result.lines.push(chunk.toString('utf8', start, start + maxLineBytes));
    result.ends.push(chunk.length);
    result.next = chunk.length;
    result.truncated++;
    result.skipping = true;
  }
  return result;
}
