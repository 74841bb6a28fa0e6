/*
 * The compact form in which a worker thread hands an export request's matches to the main
 * thread. Structured cloning (postMessage) builds every object and array of a result anew on
 * the receiving side, which cost more main-thread time per event than the stateful rules
 * themselves. So a batch crosses as one Float64Array of numbers, a table of the distinct
 * strings, and the field names. The main thread rebuilds EventMatch objects from them in plain
 * JavaScript, which is several times faster.
 *
 * Layout of one match in `data`:
 *   time, rule count n, n × (rule index, marks), one slot per field, summary, detail count d, d × detail
 * A field slot holds the number for numeric fields and an index into `strings` for the others,
 * or NaN when the event has no value. Summary and details are indexes into `strings`.
 */

/** One event that matched at least one rule's condition. */
export interface EventMatch {
  /** Indexes into the rule list of the matched rules. */
  rules: number[];
  /**
   * Per matched rule, a bit set of its extra conditions that also held: bit 0 for a window's
   * `share` condition, bit i for step i of a sequence.
   */
  marks: number[];
  /** Event time, milliseconds since the epoch. */
  time: number;
  /** Actor and target fields, plus the key, distinct and metric fields of the matched rules. */
  fields: Record<string, string | number>;
  /** One line describing the request, with secrets masked. */
  summary: string;
  /** Each detector's finding, such as `sqli: url.query:id: union select`. */
  details: string[];
  /** The copy with evidence fields only that windows keep as a sample; made on first use. */
  evidence?: EventMatch;
}

/** The matches of one export request, packed for the trip to the main thread. */
export interface PackedMatches {
  count: number;
  /** Field names in slot order. */
  fields: string[];
  /** Per slot, `n` when the field's value is a number and `s` when it is an index into `strings`. */
  kinds: string;
  strings: string[];
  data: Float64Array;
}

/** Fields whose values are almost always unique, so looking them up in the string table costs more than it saves. */
const UNIQUE_FIELDS = new Set(['trace_id', 'span_id']);

const INITIAL_CAPACITY = 1024;

/** Packs matches one by one; `finish` returns the packed form. Not reusable after `finish`. */
export class MatchWriter {
  private data = new Float64Array(INITIAL_CAPACITY);
  private length = 0;
  private count = 0;
  private readonly strings: string[] = [];
  private readonly stringIndex = new Map<string, number>();

  /**
   * @param fields Field names in slot order.
   * @param numeric Per slot, whether the field's values are numbers.
   */
  constructor(private readonly fields: readonly string[], private readonly numeric: readonly boolean[]) {}

  /** Starts a match: its time and matched rules with their marks. Field values, then the summary and details follow. */
  begin(time: number, rules: readonly number[], marks: readonly number[]): void {
    this.reserve(2 + rules.length * 2 + this.fields.length + 2);
    this.count++;
    this.push(time);
    this.push(rules.length);
    for (let i = 0; i < rules.length; i++) {
      this.push(rules[i]);
      this.push(marks[i]);
    }
  }

  /** Writes the value of the field in `slot`; slots are written in order, every one of them. */
  field(slot: number, value: string | number | undefined): void {
    if (value === undefined) this.push(Number.NaN);
    else if (this.numeric[slot]) this.push(typeof value === 'number' ? value : Number.NaN);
    else this.push(UNIQUE_FIELDS.has(this.fields[slot]) ? this.add(String(value)) : this.intern(String(value)));
  }

  /** Ends the match with its summary and detector details. */
  end(summary: string, details: readonly string[]): void {
    this.reserve(2 + details.length);
    this.push(this.add(summary));
    this.push(details.length);
    for (const detail of details) this.push(this.intern(detail));
  }

  finish(): PackedMatches {
    return {
      count: this.count,
      fields: [...this.fields],
      kinds: this.numeric.map((numeric) => (numeric ? 'n' : 's')).join(''),
      strings: this.strings,
      data: this.data.slice(0, this.length),
    };
  }

  private push(value: number): void {
    this.data[this.length++] = value;
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    let capacity = this.data.length * 2;
    while (capacity < this.length + extra) capacity *= 2;
    const grown = new Float64Array(capacity);
    grown.set(this.data.subarray(0, this.length));
    this.data = grown;
  }

  private add(text: string): number {
    this.strings.push(text);
    return this.strings.length - 1;
  }

  private intern(text: string): number {
    let index = this.stringIndex.get(text);
    if (index === undefined) {
      index = this.add(text);
      this.stringIndex.set(text, index);
    }
    return index;
  }
}

/** Rebuilds the matches of a packed batch. */
export function unpackMatches(packed: PackedMatches): EventMatch[] {
  const { data, strings, fields, kinds } = packed;
  const matches: EventMatch[] = [];
  let at = 0;
  for (let n = 0; n < packed.count; n++) {
    const time = data[at++];
    const ruleCount = data[at++];
    const rules: number[] = [];
    const marks: number[] = [];
    for (let i = 0; i < ruleCount; i++) {
      rules.push(data[at++]);
      marks.push(data[at++]);
    }
    const values: Record<string, string | number> = {};
    for (let slot = 0; slot < fields.length; slot++) {
      const value = data[at++];
      if (Number.isNaN(value)) continue;
      values[fields[slot]] = kinds.charCodeAt(slot) === 0x6e ? value : strings[value];
    }
    const summary = strings[data[at++]];
    const detailCount = data[at++];
    const details: string[] = [];
    for (let i = 0; i < detailCount; i++) details.push(strings[data[at++]]);
    matches.push({ rules, marks, time, fields: values, summary, details, evidence: undefined });
  }
  return matches;
}
