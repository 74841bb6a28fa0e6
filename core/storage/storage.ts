import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';

export type { Database };

/**
 * The daemon's on-disk state: one lmdb environment under the storage directory, with a named
 * database per user (file checkpoints, persistent queues, detection windows, decisions).
 * Nothing is created on disk until the first database is opened.
 */
export class Storage {
  readonly directory: string;
  private root: RootDatabase | undefined;
  private readonly databases = new Map<string, Database>();

  constructor(directory: string) {
    this.directory = directory;
  }

  /** Opens (or creates) a named database; values are stored with msgpack, keys may be strings or arrays. */
  database<V = unknown, K extends string | number | (string | number)[] = string>(name: string): Database<V, K> {
    let database = this.databases.get(name);
    if (!database) {
      database = this.rootDatabase().openDB({ name });
      this.databases.set(name, database);
    }
    return database as unknown as Database<V, K>;
  }

  async close(): Promise<void> {
    const root = this.root;
    this.root = undefined;
    this.databases.clear();
    if (root) await root.close();
  }

  private rootDatabase(): RootDatabase {
    if (!this.root) {
      mkdirSync(this.directory, { recursive: true });
      this.root = open({ path: join(this.directory, 'state.lmdb'), maxDbs: 64, compression: false });
    }
    return this.root;
  }
}
