import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../../core/logger.js';
import { errorMessage, isRetryable } from '../../core/errors.js';
import { basename } from 'node:path';
import { expandGlob, pathMatcher, segmentMatcher } from './glob.js';
import { splitLines } from './lines.js';
import type { Checkpoint, CheckpointStore } from './checkpoint.js';

export interface TailOptions {
  include: string[];
  exclude: string[];
  /** The starting point in files present at the first scan that have no checkpoint; later files start at the beginning. */
  startAt: 'beginning' | 'end';
  pollIntervalMs: number;
  /** Maximum line length kept, in bytes; a longer line is cut to this head and the rest skipped. */
  maxLineBytes: number;
  /** Lines handed over per call. */
  maxBatchLines: number;
  /** Files followed at once; more matching files are left out, counted and logged. */
  maxFiles: number;
  /** How long a file renamed or deleted away is still read after it last grew, in milliseconds. */
  rotateWaitMs: number;
  /** Bytes at the start of a file that identify it across renames and copies. */
  fingerprintBytes: number;
  checkpoints: CheckpointStore;
  /**
   * Delivers lines. The offset moves past the lines only after it resolves, so a retryable
   * failure reads the same lines again; a permanent one drops them, counted.
   */
  deliver: (lines: string[], path: string) => Promise<void>;
  /** Resolves when the daemon takes data again; reading pauses until then. */
  whenAdmitted?: () => Promise<void>;
  logger: Logger;
  /** Counts lines cut to `maxLineBytes`, batches dropped, and files left out. */
  count?: (event: 'truncated' | 'dropped_lines' | 'files_skipped', amount: number) => void;
}

/** A followed file. */
interface Reader {
  path: string;
  handle: FileHandle;
  identity: string;
  fingerprint: Buffer;
  offset: number;
  skipping: boolean;
  /** Set when no include path names this file any more (renamed or deleted away): the time it last grew. */
  orphanedSince?: number;
}

interface Candidate {
  path: string;
  identity: string;
  size: number;
  head: Buffer;
}

/**
 * Bytes a fingerprint must have before it may identify a file under another inode.
 * NOTE: files shorter than this are known by inode only, so the copy that copytruncate makes of
 * such a file is read as a new file, and its lines a second time.
 */
const MIN_MATCH_BYTES = 64;
const MIN_CHUNK_BYTES = 1024 * 1024;
const MAX_BACKOFF_MS = 30_000;

/** Builds the test of an exclude glob: without `/` it matches file names in any directory, with `/` whole paths. */
function excludeMatcher(pattern: string): (path: string) => boolean {
  if (!pattern.includes('/')) {
    const matcher = segmentMatcher(pattern);
    return (path) => matcher.test(basename(path));
  }
  const matcher = pathMatcher(pattern);
  return (path) => matcher.test(path);
}

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

/**
 * Follows files by polling, delivering every line once.
 *
 * Files are known by their first bytes (the fingerprint) and their inode, not by path. A file
 * renamed away (rename-and-create rotation) keeps its reader, which goes on reading through the
 * open handle until the file stops growing, and the new file at the path gets a reader of its
 * own. A file copied and truncated (copytruncate) is found again in the copy when `include`
 * matches the copy, and the truncated file is read from its start. The offset of each file is
 * the start of its first undelivered line. It moves only after a delivery succeeds and is
 * checkpointed then, so neither a failed delivery nor a restart reads a line twice.
 */
export class FileTailer {
  private readers: Reader[] = [];
  private readonly excluded: ((path: string) => boolean)[];
  private readonly chunkBytes: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private signalStop: () => void = () => undefined;
  private readonly stopping = new Promise<void>((resolve) => { this.signalStop = resolve; });
  private firstScan = true;
  private saved: Checkpoint[] | undefined;
  private backoffMs = 0;
  private backoffUntil = 0;
  private skippedLogged = 0;

  constructor(private readonly options: TailOptions) {
    this.excluded = options.exclude.map(excludeMatcher);
    this.chunkBytes = Math.max(MIN_CHUNK_BYTES, options.maxLineBytes + 64 * 1024);
  }

  start(): void {
    this.schedule(0);
  }

  /** Stops polling, waits for the poll in progress, and closes the files. Offsets are already saved. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.signalStop();
    clearTimeout(this.timer);
    await this.running;
    for (const reader of this.readers) await reader.handle.close().catch(() => undefined);
    this.readers = [];
  }

  /** Runs one poll now; tests use it to avoid waiting for the timer. */
  async pollOnce(): Promise<void> {
    await this.running;
    this.running = this.poll();
    await this.running;
  }

  /** The files followed now, for tests and diagnostics. */
  get files(): { path: string; offset: number; orphaned: boolean }[] {
    return this.readers.map((reader) => ({ path: reader.path, offset: reader.offset, orphaned: reader.orphanedSince !== undefined }));
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.poll().finally(() => this.schedule(this.options.pollIntervalMs));
    }, delay);
  }

  private async poll(): Promise<void> {
    if (this.stopped || Date.now() < this.backoffUntil) return;
    try {
      // Reading pauses while the daemon refuses data; a stop ends the wait.
      if (this.options.whenAdmitted) await Promise.race([this.options.whenAdmitted(), this.stopping]);
      if (this.stopped) return;
      this.saved ??= await this.options.checkpoints.load();
      const candidates = await this.scan();
      await this.match(candidates);
      if (this.firstScan) await this.forgetMissingFiles();
      this.firstScan = false;
      // Rotated-away files first: their lines are older than those of the files that replaced them.
      const ordered = [...this.readers.filter((reader) => reader.orphanedSince !== undefined), ...this.readers.filter((reader) => reader.orphanedSince === undefined)];
      for (const reader of ordered) {
        if (this.stopped) return;
        await this.readToEnd(reader);
      }
      await this.closeIdleOrphans();
      this.backoffMs = 0;
    } catch (error) {
      this.failed(error);
    }
  }

  private failed(error: unknown): void {
    if (isRetryable(error)) {
      this.backoffMs = Math.min(MAX_BACKOFF_MS, Math.max(1000, this.backoffMs * 2));
      this.backoffUntil = Date.now() + this.backoffMs;
      this.options.logger.warn({ err: errorMessage(error), retry_in_ms: this.backoffMs }, 'pipeline rejected lines for now; reading them again later');
    } else {
      this.options.logger.error({ err: errorMessage(error) }, 'tailing failed');
    }
  }

  /** Lists the matching files with their identity and first bytes. */
  private async scan(): Promise<Candidate[]> {
    const paths = new Set<string>();
    for (const pattern of this.options.include) {
      for (const path of await expandGlob(pattern)) {
        if (!this.excluded.some((excluded) => excluded(path))) paths.add(path);
      }
    }
    const candidates: Candidate[] = [];
    for (const path of [...paths].sort()) {
      const candidate = await this.inspect(path);
      if (candidate) candidates.push(candidate);
    }
    return candidates;
  }

  private async inspect(path: string): Promise<Candidate | undefined> {
    let handle: FileHandle | undefined;
    try {
      const info = await stat(path);
      if (!info.isFile()) return undefined;
      handle = await open(path, 'r');
      const head = Buffer.alloc(Math.min(info.size, this.options.fingerprintBytes));
      const { bytesRead } = await handle.read(head, 0, head.length, 0);
      return { path, identity: `${info.dev}:${info.ino}`, size: info.size, head: head.subarray(0, bytesRead) };
    } catch {
      return undefined;
    } finally {
      await handle?.close().catch(() => undefined);
    }
  }

  /** Matches files to readers: by inode with the same content, then by content under another inode (a copy), then new. */
  private async match(candidates: Candidate[]): Promise<void> {
    const unmatched = new Set(candidates);
    const lost: Reader[] = [];
    for (const reader of this.readers) {
      // Files only grow: a file that shrank below the offset or whose first bytes changed was truncated.
      const same = candidates.find((candidate) => candidate.identity === reader.identity);
      if (same && same.size >= reader.offset && startsWith(same.head, reader.fingerprint)) {
        this.follow(reader, same);
        unmatched.delete(same);
      } else {
        lost.push(reader);
      }
    }
    for (const reader of lost) {
      const copy = reader.fingerprint.length >= MIN_MATCH_BYTES
        ? [...unmatched].find((candidate) => startsWith(candidate.head, reader.fingerprint) && candidate.size >= reader.offset)
        : undefined;
      if (copy) {
        await this.moveTo(reader, copy);
        unmatched.delete(copy);
      } else {
        await this.orphan(reader, candidates);
      }
    }
    for (const candidate of unmatched) {
      // A copy of a file still being read (copytruncate before the truncate) is not a new file.
      const copyOfActive = candidate.head.length >= MIN_MATCH_BYTES && this.readers.some((reader) => startsWith(candidate.head, reader.fingerprint.subarray(0, candidate.head.length)));
      if (candidate.size === 0 || copyOfActive) continue;
      await this.add(candidate);
    }
  }

  private follow(reader: Reader, candidate: Candidate): void {
    if (reader.path !== candidate.path) this.options.logger.info({ from: reader.path, to: candidate.path }, 'followed file was renamed');
    reader.path = candidate.path;
    reader.orphanedSince = undefined;
    if (candidate.head.length > reader.fingerprint.length) reader.fingerprint = Buffer.from(candidate.head);
  }

  private async moveTo(reader: Reader, copy: Candidate): Promise<void> {
    const handle = await open(copy.path, 'r');
    await reader.handle.close().catch(() => undefined);
    await this.options.checkpoints.remove(reader.identity);
    this.options.logger.info({ from: reader.path, to: copy.path, offset: reader.offset }, 'followed file was copied and truncated; reading the rest from the copy');
    reader.handle = handle;
    reader.path = copy.path;
    reader.identity = copy.identity;
    reader.orphanedSince = undefined;
    await this.saveCheckpoint(reader);
  }

  /**
   * Handles a reader whose file no path names any more, or whose inode now contains other content.
   * A renamed or deleted file is still read through the open handle, and a truncated one from its start.
   */
  private async orphan(reader: Reader, candidates: Candidate[]): Promise<void> {
    const current = await reader.handle.stat().catch(() => undefined);
    const truncated = current !== undefined && candidates.some((candidate) => candidate.identity === reader.identity);
    if (truncated) {
      this.options.logger.info({ path: reader.path, offset: reader.offset }, 'followed file was truncated; reading it from the start');
      const head = Buffer.alloc(Math.min(current.size, this.options.fingerprintBytes));
      const { bytesRead } = await reader.handle.read(head, 0, head.length, 0);
      reader.fingerprint = head.subarray(0, bytesRead);
      reader.offset = 0;
      reader.skipping = false;
      await this.saveCheckpoint(reader);
      return;
    }
    if (reader.orphanedSince === undefined) {
      reader.orphanedSince = Date.now();
      this.options.logger.info({ path: reader.path }, 'followed file was rotated or deleted; reading it to its end');
    }
  }

  private async add(candidate: Candidate): Promise<void> {
    if (this.readers.length >= this.options.maxFiles) {
      this.options.count?.('files_skipped', 1);
      if (this.skippedLogged++ % 1000 === 0) this.options.logger.error({ path: candidate.path, max_files: this.options.maxFiles, skipped_total: this.skippedLogged }, 'too many matching files; leaving some unread');
      return;
    }
    let handle: FileHandle;
    try {
      handle = await open(candidate.path, 'r');
    } catch (error) {
      this.options.logger.warn({ path: candidate.path, err: errorMessage(error) }, 'cannot open file');
      return;
    }
    const checkpoint = this.findCheckpoint(candidate);
    let offset = checkpoint?.offset ?? 0;
    if (!checkpoint && this.firstScan && this.options.startAt === 'end') offset = candidate.size;
    const reader: Reader = { path: candidate.path, handle, identity: candidate.identity, fingerprint: Buffer.from(candidate.head), offset, skipping: checkpoint?.skipping ?? false };
    this.readers.push(reader);
    this.options.logger.info({ path: candidate.path, offset, resumed: checkpoint !== undefined }, 'following file');
    await this.saveCheckpoint(reader);
  }

  /** Removes the checkpoints of files that were gone at start-up. */
  private async forgetMissingFiles(): Promise<void> {
    for (const checkpoint of this.saved ?? []) await this.options.checkpoints.remove(checkpoint.identity);
    this.saved = [];
  }

  /** Finds the saved checkpoint of this file: same inode and content, or the same content under another inode. */
  private findCheckpoint(candidate: Candidate): Checkpoint | undefined {
    const saved = this.saved ?? [];
    const fits = (checkpoint: Checkpoint) => {
      const fingerprint = Buffer.from(checkpoint.fingerprint, 'base64');
      return startsWith(candidate.head, fingerprint) && candidate.size >= checkpoint.offset;
    };
    const found = saved.find((checkpoint) => checkpoint.identity === candidate.identity && fits(checkpoint))
      ?? saved.find((checkpoint) => Buffer.from(checkpoint.fingerprint, 'base64').length >= MIN_MATCH_BYTES && fits(checkpoint));
    if (found) this.saved = saved.filter((checkpoint) => checkpoint !== found);
    return found;
  }

  private async closeIdleOrphans(): Promise<void> {
    const now = Date.now();
    for (const reader of [...this.readers]) {
      if (reader.orphanedSince === undefined || now - reader.orphanedSince < this.options.rotateWaitMs) continue;
      await this.flushPartial(reader);
      await reader.handle.close().catch(() => undefined);
      await this.options.checkpoints.remove(reader.identity);
      this.readers = this.readers.filter((other) => other !== reader);
      this.options.logger.info({ path: reader.path, offset: reader.offset }, 'stopped following rotated file');
    }
  }

  /** Reads a file from its offset to its end, delivering complete lines in batches. */
  private async readToEnd(reader: Reader): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const size = (await reader.handle.stat()).size;
      if (size <= reader.offset) return;
      const length = Math.min(this.chunkBytes, size - reader.offset);
      const chunk = Buffer.allocUnsafe(length);
      const { bytesRead } = await reader.handle.read(chunk, 0, length, reader.offset);
      if (bytesRead === 0) return;
      if (reader.orphanedSince !== undefined) reader.orphanedSince = Date.now();
      const progressed = await this.deliverChunk(reader, chunk.subarray(0, bytesRead));
      if (!progressed) return;
    }
  }

  /** Delivers the complete lines of a chunk; returns whether the offset moved. */
  private async deliverChunk(reader: Reader, chunk: Buffer): Promise<boolean> {
    const base = reader.offset;
    const split = splitLines(chunk, this.options.maxLineBytes, reader.skipping);
    if (split.truncated > 0) this.options.count?.('truncated', split.truncated);
    for (let i = 0; i < split.lines.length; i += this.options.maxBatchLines) {
      const last = Math.min(i + this.options.maxBatchLines, split.lines.length) - 1;
      await this.deliverBatch(reader, split.lines.slice(i, last + 1));
      reader.offset = base + split.ends[last];
      // Only the batch that ends with the cut line starts the skipping of its rest.
      reader.skipping = split.skipping && last === split.lines.length - 1;
      await this.saveCheckpoint(reader);
    }
    if (base + split.next > reader.offset) {
      reader.offset = base + split.next;
      reader.skipping = split.skipping;
      await this.saveCheckpoint(reader);
    }
    return reader.offset > base;
  }

  private async deliverBatch(reader: Reader, lines: string[]): Promise<void> {
    try {
      await this.options.deliver(lines, reader.path);
    } catch (error) {
      if (isRetryable(error)) throw error;
      this.options.count?.('dropped_lines', lines.length);
      this.options.logger.error({ path: reader.path, lines: lines.length, err: errorMessage(error) }, 'pipeline rejected lines permanently; dropping them');
    }
  }

  /** Delivers a last line that has no newline, when its file goes away for good. */
  private async flushPartial(reader: Reader): Promise<void> {
    const size = (await reader.handle.stat().catch(() => undefined))?.size ?? 0;
    if (size <= reader.offset || reader.skipping) return;
    const length = Math.min(size - reader.offset, this.options.maxLineBytes);
    const rest = Buffer.alloc(length);
    const { bytesRead } = await reader.handle.read(rest, 0, length, reader.offset);
    const text = rest.toString('utf8', 0, bytesRead).replace(/\r$/, '');
    if (text.length > 0) await this.deliverBatch(reader, [text]);
    reader.offset = size;
  }

  private async saveCheckpoint(reader: Reader): Promise<void> {
    await this.options.checkpoints.save({
      identity: reader.identity,
      path: reader.path,
      fingerprint: reader.fingerprint.toString('base64'),
      offset: reader.offset,
      skipping: reader.skipping,
    });
  }
}
