import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Logger } from '../../core/logger.js';
import { errorMessage, isRetryable } from '../../core/errors.js';

export interface TailOptions {
  include: string[];
  exclude: string[];
  /** Where to start in files present at start-up; files that appear later are read from the beginning. */
  startAt: 'beginning' | 'end';
  pollIntervalMs: number;
  /** Longest line kept, in bytes; a longer line is cut to this head and the rest skipped. */
  maxLineBytes: number;
  /** Lines handed over per call. */
  maxBatchLines: number;
  /** Delivers lines; offsets advance only after it resolves, so a failed delivery is read again. */
  deliver: (lines: string[], path: string) => Promise<void>;
  logger: Logger;
}

interface TrackedFile {
  path: string;
  handle: FileHandle;
  /** Device and inode, to notice rotation by rename. */
  identity: string;
  offset: number;
  /** Bytes of a line whose newline has not arrived yet. */
  partial: Buffer;
  /** True while the rest of an over-long line is being skipped. */
  skipping: boolean;
}

const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Follows files by polling: new lines are read from the last offset, a file renamed away is read
 * to its end before the new file at the path is opened, and a file that shrank (copytruncate) is
 * read again from the start.
 */
export class FileTailer {
  private readonly files = new Map<string, TrackedFile>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private firstScan = true;
  private backoffUntil = 0;

  constructor(private readonly options: TailOptions) {}

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    for (const file of this.files.values()) await file.handle.close().catch(() => undefined);
    this.files.clear();
  }

  /** Runs one poll now; tests use it to avoid waiting for the timer. */
  async pollOnce(): Promise<void> {
    await this.running;
    this.running = this.poll();
    await this.running;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.poll().finally(() => this.schedule(this.options.pollIntervalMs));
    }, delay);
  }

  private async poll(): Promise<void> {
    if (Date.now() < this.backoffUntil) return;
    try {
      const paths = await this.matchingPaths();
      for (const path of paths) {
        if (!this.files.has(path)) await this.track(path, this.firstScan);
      }
      this.firstScan = false;
      for (const file of [...this.files.values()]) {
        if (this.stopped) return;
        await this.follow(file);
      }
    } catch (error) {
      if (isRetryable(error)) {
        this.backoffUntil = Date.now() + 1000;
        this.options.logger.warn({ err: errorMessage(error) }, 'pipeline refused lines; retrying in 1 s');
      } else {
        this.options.logger.error({ err: errorMessage(error) }, 'tailing failed');
      }
    }
  }

  private async matchingPaths(): Promise<string[]> {
    const found = new Set<string>();
    for (const pattern of this.options.include) {
      for (const path of await expandGlob(pattern)) {
        if (!this.options.exclude.some((exclude) => globToRegExp(resolve(exclude)).test(path))) found.add(path);
      }
    }
    return [...found];
  }

  private async track(path: string, existedAtStart: boolean): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch {
      return;
    }
    const info = await handle.stat();
    const offset = existedAtStart && this.options.startAt === 'end' ? info.size : 0;
    this.files.set(path, { path, handle, identity: `${info.dev}:${info.ino}`, offset, partial: Buffer.alloc(0), skipping: false });
    this.options.logger.info({ path, offset }, 'tailing file');
  }

  private async follow(file: TrackedFile): Promise<void> {
    const current = await stat(file.path).catch(() => undefined);
    const rotated = current !== undefined && `${current.dev}:${current.ino}` !== file.identity;
    const open = await file.handle.stat();
    if (open.size < file.offset) {
      this.options.logger.info({ path: file.path }, 'file was truncated; reading from the start');
      file.offset = 0;
      file.partial = Buffer.alloc(0);
    }
    await this.readToEnd(file, open.size);
    if (rotated || current === undefined) {
      // The old file stays readable through the open handle; what it holds is read above.
      await this.flushPartial(file);
      await file.handle.close();
      this.files.delete(file.path);
      if (current !== undefined) {
        this.options.logger.info({ path: file.path }, 'file was rotated; following the new file');
        await this.track(file.path, false);
      }
    }
  }

  private async readToEnd(file: TrackedFile, size: number): Promise<void> {
    while (file.offset < size && !this.stopped) {
      const length = Math.min(READ_CHUNK_BYTES, size - file.offset);
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await file.handle.read(buffer, 0, length, file.offset);
      if (bytesRead === 0) return;
      const { lines, rest, skipping } = this.splitLines(Buffer.concat([file.partial, buffer.subarray(0, bytesRead)]), file.skipping);
      for (let i = 0; i < lines.length; i += this.options.maxBatchLines) {
        await this.options.deliver(lines.slice(i, i + this.options.maxBatchLines), file.path);
      }
      file.offset += bytesRead;
      file.partial = rest;
      file.skipping = skipping;
    }
  }

  /** Delivers a last line that has no newline, when its file goes away. */
  private async flushPartial(file: TrackedFile): Promise<void> {
    if (file.partial.length === 0) return;
    await this.options.deliver([file.partial.toString('utf8')], file.path);
    file.partial = Buffer.alloc(0);
  }

  private splitLines(data: Buffer, skipping: boolean): { lines: string[]; rest: Buffer; skipping: boolean } {
    const lines: string[] = [];
    let start = 0;
    for (let newline = data.indexOf(0x0a, start); newline >= 0; newline = data.indexOf(0x0a, start)) {
      if (!skipping) {
        const end = newline > start && data[newline - 1] === 0x0d ? newline - 1 : newline;
        if (end > start) lines.push(data.toString('utf8', start, Math.min(end, start + this.options.maxLineBytes)));
      }
      skipping = false;
      start = newline + 1;
    }
    let rest = data.subarray(start);
    if (!skipping && rest.length > this.options.maxLineBytes) {
      lines.push(rest.toString('utf8', 0, this.options.maxLineBytes));
      rest = Buffer.alloc(0);
      skipping = true;
    } else if (skipping) {
      rest = Buffer.alloc(0);
    }
    return { lines, rest: Buffer.from(rest), skipping };
  }
}

/** Expands a path whose last segment may hold `*` and `?`. */
export async function expandGlob(pattern: string): Promise<string[]> {
  const absolute = resolve(pattern);
  const name = basename(absolute);
  if (!/[*?[]/.test(name)) return [absolute];
  const directory = dirname(absolute);
  const matcher = globToRegExp(name);
  const entries = await readdir(directory, { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile() && matcher.test(entry.name)).map((entry) => join(directory, entry.name)).sort();
}

/** Converts a glob with `*`, `?` and `[...]` to an anchored regular expression. `*` does not cross `/`. */
export function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const char of glob) {
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else if (char === '[' || char === ']') source += char;
    else source += char.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
