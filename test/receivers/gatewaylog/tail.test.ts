import { appendFileSync, closeSync, copyFileSync, mkdirSync, openSync, renameSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileTailer, type TailOptions } from '../../../receivers/gatewaylog/tail.js';
import { LmdbCheckpointStore, MemoryCheckpointStore } from '../../../receivers/gatewaylog/checkpoint.js';
import { retryableError, permanentError } from '../../../core/errors.js';
import { silentLogger } from '../../../core/logger.js';
import { Storage } from '../../../core/storage/storage.js';
import { tempDirectory } from '../../helpers/tmp.js';

interface Harness {
  tailer: FileTailer;
  delivered: string[];
  counts: Record<string, number>;
}

function lines(prefix: string, from: number, to: number): string {
  let text = '';
  for (let i = from; i < to; i++) text += `${prefix} line ${i} ${'x'.repeat(40)}\n`;
  return text;
}

function expected(prefix: string, from: number, to: number): string[] {
  return lines(prefix, from, to).split('\n').filter(Boolean);
}

describe('file tailer', () => {
  let directory: { path: string; cleanup: () => void };
  let tailers: FileTailer[] = [];

  beforeEach(() => {
    directory = tempDirectory();
    tailers = [];
  });

  afterEach(async () => {
    for (const tailer of tailers) await tailer.stop();
    directory.cleanup();
  });

  function path(name: string): string {
    return join(directory.path, name);
  }

  function harness(options: Partial<TailOptions> = {}): Harness {
    const delivered: string[] = [];
    const counts: Record<string, number> = {};
    const tailer = new FileTailer({
      include: [path('access.log')],
      exclude: [],
      startAt: 'beginning',
      pollIntervalMs: 60_000,
      maxLineBytes: 4096,
      maxBatchLines: 100,
      maxFiles: 16,
      rotateWaitMs: 0,
      fingerprintBytes: 1024,
      checkpoints: new MemoryCheckpointStore(),
      logger: silentLogger(),
      deliver: async (batch) => {
        delivered.push(...batch);
      },
      count: (event, amount) => {
        counts[event] = (counts[event] ?? 0) + amount;
      },
      ...options,
    });
    tailers.push(tailer);
    return { tailer, delivered, counts };
  }

  it('delivers lines appended while running', async () => {
    const { tailer, delivered } = harness();
    writeFileSync(path('access.log'), lines('a', 0, 3));

    await tailer.pollOnce();
    appendFileSync(path('access.log'), lines('a', 3, 5));
    await tailer.pollOnce();
    await tailer.pollOnce();

    expect(delivered).toEqual(expected('a', 0, 5));
  });

  it('holds back a line until its newline arrives', async () => {
    const { tailer, delivered } = harness();
    writeFileSync(path('access.log'), 'first\nsecond par');

    await tailer.pollOnce();
    expect(delivered).toEqual(['first']);

    appendFileSync(path('access.log'), 'tial\r\n');
    await tailer.pollOnce();
    expect(delivered).toEqual(['first', 'second partial']);
  });

  it('starts at the end of files present at the first scan', async () => {
    writeFileSync(path('access.log'), lines('old', 0, 3));
    const { tailer, delivered } = harness({ startAt: 'end', include: [path('*.log')] });

    await tailer.pollOnce();
    appendFileSync(path('access.log'), lines('new', 0, 2));
    writeFileSync(path('later.log'), lines('later', 0, 2));
    await tailer.pollOnce();

    expect(delivered).toEqual([...expected('new', 0, 2), ...expected('later', 0, 2)]);
  });

  it('reads every line once through rename rotations during a burst', async () => {
    for (const include of [[path('access.log')], [path('access.log*')]]) {
      // A renamed file is read until it has been quiet for rotate_wait; the writer below reopens later.
      const { tailer, delivered } = harness({ include, rotateWaitMs: 60_000 });
      const all: string[] = [];
      let fd = openSync(path('access.log'), 'a');
      let written = 0;
      const write = (count: number) => {
        const text = lines(include.length + include[0], written, written + count);
        writeSync(fd, text);
        all.push(...text.split('\n').filter(Boolean));
        written += count;
      };

      for (let round = 0; round < 5; round++) {
        write(37);
        await tailer.pollOnce();
        write(11);
        // logrotate renames; the server keeps writing to the old file until it reopens its log.
        renameSync(path('access.log'), path(`access.log.${round + 1}`));
        write(5);
        await tailer.pollOnce();
        write(3);
        closeSync(fd);
        fd = openSync(path('access.log'), 'a');
        write(7);
        await tailer.pollOnce();
      }
      closeSync(fd);
      await tailer.pollOnce();
      await tailer.pollOnce();

      expect(delivered.length).toBe(all.length);
      expect(new Set(delivered).size).toBe(all.length);
      expect([...delivered].sort()).toEqual([...all].sort());
      await tailer.stop();
      for (let round = 0; round < 5; round++) unlinkSync(path(`access.log.${round + 1}`));
      unlinkSync(path('access.log'));
    }
  });

  it('reads every line once through copytruncate rotations during a burst', async () => {
    const { tailer, delivered } = harness({ include: [path('access.log*')] });
    const all: string[] = [];
    const fd = openSync(path('access.log'), 'a');
    let written = 0;
    const write = (count: number) => {
      const text = lines('c', written, written + count);
      writeSync(fd, text);
      all.push(...text.split('\n').filter(Boolean));
      written += count;
    };

    for (let round = 0; round < 5; round++) {
      write(29);
      await tailer.pollOnce();
      write(13);
      copyFileSync(path('access.log'), path('access.log.1.tmp'));
      // The copy gets its final name while the original is still whole, then the original is cut.
      renameSync(path('access.log.1.tmp'), path(`access.log.${round + 1}`));
      await tailer.pollOnce();
      truncateSync(path('access.log'), 0);
      write(round % 2 === 0 ? 6 : 0);
      await tailer.pollOnce();
    }
    write(4);
    closeSync(fd);
    await tailer.pollOnce();
    await tailer.pollOnce();

    expect(delivered.length).toBe(all.length);
    expect([...delivered].sort()).toEqual([...all].sort());
  });

  it('resumes after a restart in the middle of a file', async () => {
    const storage = new Storage(path('state'));
    writeFileSync(path('access.log'), lines('r', 0, 250));
    let batches = 0;
    const first = harness({
      checkpoints: new LmdbCheckpointStore(storage, 'gatewaylog/test'),
      maxBatchLines: 50,
      deliver: async (batch) => {
        if (++batches > 2) throw retryableError('WP_ERR_RECEIVER_OVERLOADED', 'stop here');
        first.delivered.push(...batch);
      },
    });

    await first.tailer.pollOnce();
    await first.tailer.stop();
    await storage.close();
    const reopened = new Storage(path('state'));
    const second = harness({ checkpoints: new LmdbCheckpointStore(reopened, 'gatewaylog/test'), maxBatchLines: 50, startAt: 'end' });
    appendFileSync(path('access.log'), lines('r', 250, 260));
    await second.tailer.pollOnce();
    await second.tailer.stop();
    await reopened.close();

    expect(first.delivered).toEqual(expected('r', 0, 100));
    expect(second.delivered).toEqual(expected('r', 100, 260));
  });

  it('reads a file truncated to zero from its start', async () => {
    const { tailer, delivered } = harness();
    writeFileSync(path('access.log'), lines('t', 0, 4));
    await tailer.pollOnce();

    truncateSync(path('access.log'), 0);
    await tailer.pollOnce();
    appendFileSync(path('access.log'), lines('u', 0, 2));
    await tailer.pollOnce();

    expect(delivered).toEqual([...expected('t', 0, 4), ...expected('u', 0, 2)]);
  });

  it('notices a truncation that was refilled past the offset', async () => {
    const { tailer, delivered } = harness();
    writeFileSync(path('access.log'), lines('t', 0, 2));
    await tailer.pollOnce();

    writeFileSync(path('access.log'), lines('v', 0, 6));
    await tailer.pollOnce();

    expect(delivered).toEqual([...expected('t', 0, 2), ...expected('v', 0, 6)]);
  });

  it('repeats only the batch whose delivery failed', async () => {
    let failNext = false;
    const delivered: string[] = [];
    const { tailer } = harness({
      maxBatchLines: 10,
      deliver: async (batch) => {
        if (failNext) {
          failNext = false;
          throw retryableError('WP_ERR_RECEIVER_OVERLOADED', 'busy');
        }
        delivered.push(...batch);
        if (delivered.length === 10) failNext = true;
      },
    });
    writeFileSync(path('access.log'), lines('f', 0, 35));

    await tailer.pollOnce();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await tailer.pollOnce();

    expect(delivered).toEqual(expected('f', 0, 35));
  });

  it('drops and counts a batch rejected permanently', async () => {
    const { tailer, counts } = harness({
      maxBatchLines: 5,
      deliver: async () => {
        throw permanentError('WP_ERR_RECEIVER_DECODE', 'never');
      },
    });
    writeFileSync(path('access.log'), lines('p', 0, 12));

    await tailer.pollOnce();
    await tailer.pollOnce();

    expect(counts.dropped_lines).toBe(12);
  });

  it('cuts an over-long line and skips its rest across reads', async () => {
    const { tailer, delivered, counts } = harness({ maxLineBytes: 256 });
    writeFileSync(path('access.log'), `short\n${'y'.repeat(1000)}`);

    await tailer.pollOnce();
    appendFileSync(path('access.log'), `${'y'.repeat(2_000_000)}\nafter\n`);
    await tailer.pollOnce();

    expect(delivered).toEqual(['short', 'y'.repeat(256), 'after']);
    expect(counts.truncated).toBe(1);
  });

  it('follows new files under ** and leaves out excluded ones', async () => {
    mkdirSync(path('a/b'), { recursive: true });
    const { tailer, delivered } = harness({ include: [path('**/*.log')], exclude: [path('**/skip*'), '*.old.log'] });
    writeFileSync(path('a/b/x.log'), 'x\n');
    writeFileSync(path('a/skip.log'), 'skipped\n');
    writeFileSync(path('a/b/x.old.log'), 'old\n');

    await tailer.pollOnce();
    writeFileSync(path('a/y.log'), 'y\n');
    await tailer.pollOnce();

    expect(delivered).toEqual(['x', 'y']);
  });

  it('counts files beyond the limit', async () => {
    const { tailer, delivered, counts } = harness({ include: [path('*.log')], maxFiles: 2 });
    for (const name of ['1.log', '2.log', '3.log']) writeFileSync(path(name), `${name}\n`);

    await tailer.pollOnce();

    expect(delivered).toEqual(['1.log', '2.log']);
    expect(counts.files_skipped).toBe(1);
  });

  it('reads a deleted file to its end and then lets it go', async () => {
    const { tailer, delivered } = harness({ rotateWaitMs: 0 });
    const fd = openSync(path('access.log'), 'a');
    writeSync(fd, 'one\n');
    await tailer.pollOnce();

    unlinkSync(path('access.log'));
    writeSync(fd, 'two\nlast without newline');
    closeSync(fd);
    await tailer.pollOnce();

    expect(delivered).toEqual(['one', 'two', 'last without newline']);
    expect(tailer.files).toEqual([]);
  });

  it('waits while the daemon refuses data and still stops', async () => {
    writeFileSync(path('access.log'), 'held\n');
    const { tailer, delivered } = harness({ whenAdmitted: () => new Promise(() => undefined) });

    tailer.start();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await tailer.stop();

    expect(delivered).toEqual([]);
  });
});
