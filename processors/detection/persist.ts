import type { Database, Storage } from '../../core/storage/storage.js';
import type { Logger } from '../../core/logger.js';
import type { EngineSnapshot } from './engine.js';

/*
 * Detection state on disk: one lmdb database shared by detection processors, one entry per
 * processor id and rule, written in one transaction so that a crash leaves either the previous
 * save or the new one. Windows, buckets, sequences, baselines and active findings survive a
 * restart this way, so a count half-way to its threshold is not lost.
 */

const DATABASE = 'detection-state';

interface SavedRule {
  shape: string;
  states: EngineSnapshot['rules'][number]['states'];
  active: EngineSnapshot['rules'][number]['active'];
}

interface SavedHeader {
  version: 1;
  watermark: number;
  rules: string[];
  savedAt: number;
}

export class StateStore {
  private database: Database<unknown, string> | undefined;

  constructor(private readonly storage: Storage, private readonly processorId: string, private readonly logger: Logger) {}

  private db(): Database<unknown, string> {
    this.database ??= this.storage.database<unknown, string>(DATABASE);
    return this.database;
  }

  private key(part: string): string {
    return `${this.processorId}\u0000${part}`;
  }

  /** Writes a snapshot, replacing the previous one; rules that no longer exist are removed. */
  save(snapshot: EngineSnapshot): void {
    const db = this.db();
    const previous = db.get(this.key('header')) as SavedHeader | undefined;
    const header: SavedHeader = { version: 1, watermark: snapshot.watermark, rules: snapshot.rules.map((rule) => rule.id), savedAt: Date.now() };
    db.transactionSync(() => {
      for (const rule of snapshot.rules) {
        const saved: SavedRule = { shape: rule.shape, states: rule.states, active: rule.active };
        db.putSync(this.key(`rule\u0000${rule.id}`), saved);
      }
      for (const id of previous?.rules ?? []) {
        if (!header.rules.includes(id)) db.removeSync(this.key(`rule\u0000${id}`));
      }
      db.putSync(this.key('header'), header);
    });
  }

  /** Reads the last snapshot; undefined when there is none or it cannot be read. */
  load(): EngineSnapshot | undefined {
    try {
      const db = this.db();
      const header = db.get(this.key('header')) as SavedHeader | undefined;
      if (!header || header.version !== 1) return undefined;
      const rules: EngineSnapshot['rules'] = [];
      for (const id of header.rules) {
        const saved = db.get(this.key(`rule\u0000${id}`)) as SavedRule | undefined;
        if (saved) rules.push({ id, shape: saved.shape, states: saved.states, active: saved.active });
      }
      return { version: 1, watermark: header.watermark, rules };
    } catch (error) {
      this.logger.error({ err: error instanceof Error ? error.message : String(error) }, 'reading saved detection state failed; starting from empty state');
      return undefined;
    }
  }
}
