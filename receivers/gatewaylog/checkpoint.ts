import type { Database, Storage } from '../../core/storage/storage.js';

/** The read position of a followed file, stored so that a restart resumes there. */
export interface Checkpoint {
  /** Device and inode, `dev:ino`. */
  identity: string;
  path: string;
  /** The first bytes of the file (up to the fingerprint size), base64: the file's identity across renames and copies. */
  fingerprint: string;
  /** Bytes delivered: the start of the first line not yet delivered. */
  offset: number;
  /** True while the rest of an over-long line is being skipped. */
  skipping: boolean;
}

/** Keeps the checkpoints of one receiver. */
export interface CheckpointStore {
  load(): Promise<Checkpoint[]>;
  save(checkpoint: Checkpoint): Promise<void>;
  remove(identity: string): Promise<void>;
}

const DATABASE = 'gatewaylog.checkpoints';

/**
 * Checkpoints in the daemon's lmdb storage, one entry per followed file keyed by receiver id and
 * file identity. lmdb commits a write before its promise resolves, so a checkpoint that was saved
 * survives a crash.
 */
export class LmdbCheckpointStore implements CheckpointStore {
  private database: Database<Checkpoint, [string, string]> | undefined;

  constructor(private readonly storage: Storage, private readonly receiverId: string) {}

  async load(): Promise<Checkpoint[]> {
    const checkpoints: Checkpoint[] = [];
    for (const { value } of this.db().getRange({ start: [this.receiverId], end: [this.receiverId, '\uffff'] })) checkpoints.push(value);
    return checkpoints;
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    await this.db().put([this.receiverId, checkpoint.identity], checkpoint);
  }

  async remove(identity: string): Promise<void> {
    await this.db().remove([this.receiverId, identity]);
  }

  private db(): Database<Checkpoint, [string, string]> {
    this.database ??= this.storage.database<Checkpoint, [string, string]>(DATABASE);
    return this.database;
  }
}

/** Checkpoints kept in memory only, for replays and tests that need no restart. */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly entries = new Map<string, Checkpoint>();

  async load(): Promise<Checkpoint[]> {
    return [...this.entries.values()];
  }

  async save(checkpoint: Checkpoint): Promise<void> {
    this.entries.set(checkpoint.identity, { ...checkpoint });
  }

  async remove(identity: string): Promise<void> {
    this.entries.delete(identity);
  }
}
