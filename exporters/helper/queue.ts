import type { Batch } from '../../core/data/batch.js';
import type { Database, Storage } from '../../core/storage/storage.js';
import { decodeStoredBatch, encodeStoredBatch, type StoredBatch } from './batches.js';

/** One batch taken from a queue; `ack` or `release` it when its delivery ended. */
export interface QueueEntry {
  readonly batch: Batch;
  /** The key in the persistent queue; undefined for the memory queue. */
  readonly key?: number;
}

/** Raised by `push` when the queue contains `capacity` batches. */
export class QueueFullError extends Error {
  constructor(readonly capacity: number) {
    super(`sending queue is full (${capacity} batches)`);
    this.name = 'QueueFullError';
  }
}

/**
 * A bounded FIFO of batches waiting to be sent. The size counts the batches waiting and, for the
 * persistent queue, those being written. Batches taken by a consumer have left the queue, as in
 * the Collector's sending queue, so the data in memory is at most the capacity plus one request
 * per consumer.
 */
export interface BatchQueue {
  readonly capacity: number;
  size(): number;
  /** Adds a batch; resolves once it is stored (on disk, for the persistent queue). */
  push(batch: Batch): Promise<void>;
  /** Takes the oldest waiting batch, or undefined when none waits. */
  take(): QueueEntry | undefined;
  /** Resolves when a batch waits, or after `timeoutMs`, or when `signal` aborts. */
  waitForEntry(timeoutMs: number | undefined, signal: AbortSignal): Promise<void>;
  /** Removes a delivered (or dropped) batch for good. */
  ack(entry: QueueEntry): Promise<void>;
  /** Gives back a batch that was not delivered; the persistent queue keeps it for the next start. */
  release(entry: QueueEntry): void;
  /** Entries lost because they could not be read back, counted since start. */
  readonly unreadable: number;
}

/** Keeps waiters for the next pushed batch. */
class Waiters {
  private waiting: (() => void)[] = [];

  wait(timeoutMs: number | undefined, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiting = this.waiting.filter((waiter) => waiter !== done);
        resolve();
      };
      if (timeoutMs !== undefined) timer = setTimeout(done, Math.max(0, timeoutMs));
      signal.addEventListener('abort', done, { once: true });
      this.waiting.push(done);
    });
  }

  wakeAll(): void {
    for (const wake of [...this.waiting]) wake();
  }
}

/** The in-memory queue: fast, and lost when the process dies. */
export class MemoryQueue implements BatchQueue {
  private readonly entries: QueueEntry[] = [];
  private readonly waiters = new Waiters();
  readonly unreadable = 0;

  constructor(readonly capacity: number) {}

  size(): number {
    return this.entries.length;
  }

  async push(batch: Batch): Promise<void> {
    if (this.size() >= this.capacity) throw new QueueFullError(this.capacity);
    this.entries.push({ batch });
    this.waiters.wakeAll();
  }

  take(): QueueEntry | undefined {
    return this.entries.shift();
  }

  waitForEntry(timeoutMs: number | undefined, signal: AbortSignal): Promise<void> {
    if (this.entries.length > 0) return Promise.resolve();
    return this.waiters.wait(timeoutMs, signal);
  }

  async ack(): Promise<void> {}

  release(): void {}
}

/**
 * The persistent queue: each batch is a record in a named lmdb database, keyed by an increasing
 * number, so the queue keeps its order across restarts. Only keys live in memory; a batch is read
 * back when it is taken, so memory stays bounded by the batches in flight.
 *
 * `push` resolves only after lmdb reports the write flushed to disk. A batch is removed only when
 * `ack` is called after delivery, so a crash during delivery sends it again after the restart:
 * delivery is at least once, and duplicates are possible.
 */
export class PersistentQueue implements BatchQueue {
  private readonly waiting: number[];
  private writing = 0;
  private nextKey: number;
  private readonly waiters = new Waiters();
  unreadable = 0;

  private constructor(private readonly database: Database<StoredBatch, number>, readonly capacity: number) {
    this.waiting = [...database.getKeys()].filter((key): key is number => typeof key === 'number').sort((a, b) => a - b);
    this.nextKey = (this.waiting.at(-1) ?? 0) + 1;
  }

  /** Opens the queue of one exporter; batches left by an earlier run wait at its front. */
  static open(storage: Storage, exporterId: string, capacity: number): PersistentQueue {
    return new PersistentQueue(storage.database<StoredBatch, number>(`exporter_queue/${exporterId}`), capacity);
  }

  /** Batches found on disk when the queue was opened and not yet taken. */
  get recovered(): number {
    return this.waiting.length;
  }

  size(): number {
    return this.waiting.length + this.writing;
  }

  async push(batch: Batch): Promise<void> {
    if (this.size() >= this.capacity) throw new QueueFullError(this.capacity);
    const key = this.nextKey++;
    this.writing++;
    try {
      await this.database.put(key, encodeStoredBatch(batch));
      // put resolves when the transaction committed; flushed resolves when it reached the disk.
      await this.database.flushed;
    } finally {
      this.writing--;
    }
    this.waiting.push(key);
    this.waiters.wakeAll();
  }

  take(): QueueEntry | undefined {
    for (;;) {
      const key = this.waiting.shift();
      if (key === undefined) return undefined;
      const stored = this.database.get(key);
      try {
        return { batch: decodeStoredBatch(stored), key };
      } catch {
        // A record this version cannot read is removed, so it does not block the queue forever.
        this.unreadable++;
        void this.database.remove(key);
      }
    }
  }

  waitForEntry(timeoutMs: number | undefined, signal: AbortSignal): Promise<void> {
    if (this.waiting.length > 0) return Promise.resolve();
    return this.waiters.wait(timeoutMs, signal);
  }

  async ack(entry: QueueEntry): Promise<void> {
    if (entry.key !== undefined) await this.database.remove(entry.key);
  }

  /** Leaves the batch on disk, where the next start finds it. */
  release(): void {}
}
