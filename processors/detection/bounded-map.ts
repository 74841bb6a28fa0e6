/**
 * Returns a copy of a string that does not point into a longer one. Keys are often slices of a larger
 * string (a worker's packed result, a log line), and V8 keeps the whole parent alive for as long
 * as a slice lives. At 20,000 clients, 19 MiB of packed results stayed behind their state keys.
 * Slicing a concatenation copies the characters into a new string just one longer than the key.
 */
export function ownCopy(text: string): string {
  return ` ${text}`.slice(1);
}

interface Entry<V> {
  /** The map's own copy of the key. */
  key: string;
  value: V;
  placed: number;
}

/**
 * A map of at most `max` keys that evicts the least recently used key, approximately. A Map keeps
 * insertion order, so moving a key to the end on every use would give exact LRU order, but at a
 * delete and an insert per use, which was the engine's largest cost per event. Here a key moves to
 * the end only when more than a quarter of `max` placements happened since it last moved. A used
 * key therefore last moved at most half of `max` placements ago, so a full map has at least half
 * of `max` keys in front of it, and a flood of new keys evicts all of those first. A key used
 * within the last quarter of `max` new keys is never evicted.
 */
export class BoundedMap<V> {
  private readonly entries = new Map<string, Entry<V>>();
  /** Placements (inserts and moves to the end) so far. */
  private placements = 0;
  private readonly staleAfter: number;

  /** @param onEvict called once per key evicted for room. */
  constructor(private readonly max: number, private readonly onEvict: () => void) {
    this.staleAfter = Math.max(1, Math.floor(max / 4));
  }

  get size(): number {
    return this.entries.size;
  }

  /** Returns the value and marks the key as used. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.placements - entry.placed > this.staleAfter) this.place(entry);
    return entry.value;
  }

  /** Sets the value and marks the key as used; evicts about the least recently used key past `max`. */
  set(key: string, value: V): void {
    const entry = this.entries.get(key);
    if (entry) {
      entry.value = value;
      if (this.placements - entry.placed > this.staleAfter) this.place(entry);
      return;
    }
    this.place({ key: ownCopy(key), value, placed: 0 });
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.onEvict();
    }
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Iterates keys and values from the least to the most recently used, without marking them used. */
  *[Symbol.iterator](): IterableIterator<[string, V]> {
    for (const [key, entry] of this.entries) yield [key, entry.value];
  }

  values(): V[] {
    const values: V[] = [];
    for (const entry of this.entries.values()) values.push(entry.value);
    return values;
  }

  /** Moves an entry to the end, under the key it was stored with rather than the caller's string. */
  private place(entry: Entry<V>): void {
    this.entries.delete(entry.key);
    entry.placed = ++this.placements;
    this.entries.set(entry.key, entry);
  }
}
