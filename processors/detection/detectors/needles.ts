/*
 * Many-needle substring search (Aho–Corasick compiled into a DFA): one pass over the text finds
 * every occurrence of every needle, in time linear in the text whatever the number of needles.
 * Detectors use it where they used to call indexOf once per list entry.
 */

export interface NeedleHit {
  /** Index of the needle in the list the set was built from. */
  needle: number;
  /** Where the occurrence starts in the text. */
  start: number;
}

export class NeedleSet {
  /** Character code to alphabet class; characters in no needle are class 0 and lead back to the root. */
  private readonly classes = new Map<number, number>();
  /** The same for ASCII, as an array, because scanning looks up every character. */
  private readonly ascii = new Int32Array(128);
  private readonly width: number;
  /** DFA transitions, `state * width + class`. */
  private readonly next: Int32Array;
  /** Per state, the needles that end there (directly or through the failure chain). */
  private readonly outputs: number[][];

  constructor(readonly needles: readonly string[]) {
    for (const needle of needles) for (let i = 0; i < needle.length; i++) {
      const code = needle.charCodeAt(i);
      if (!this.classes.has(code)) this.classes.set(code, this.classes.size + 1);
    }
    this.width = this.classes.size + 1;
    for (const [code, symbol] of this.classes) if (code < 128) this.ascii[code] = symbol;
    const goto: Map<number, number>[] = [new Map()];
    this.outputs = [[]];
    needles.forEach((needle, index) => {
      let state = 0;
      for (let i = 0; i < needle.length; i++) {
        const symbol = this.classes.get(needle.charCodeAt(i)) as number;
        let target = goto[state].get(symbol);
        if (target === undefined) {
          target = goto.length;
          goto.push(new Map());
          this.outputs.push([]);
          goto[state].set(symbol, target);
        }
        state = target;
      }
      this.outputs[state].push(index);
    });
    this.next = new Int32Array(goto.length * this.width);
    this.build(goto);
  }

  /** Fills the DFA breadth first: a missing transition follows the state's failure link. */
  private build(goto: Map<number, number>[]): void {
    const failure = new Int32Array(goto.length);
    const queue: number[] = [];
    for (let symbol = 0; symbol < this.width; symbol++) {
      const target = goto[0].get(symbol) ?? 0;
      this.next[symbol] = target;
      if (target !== 0) queue.push(target);
    }
    for (let head = 0; head < queue.length; head++) {
      const state = queue[head];
      this.outputs[state].push(...this.outputs[failure[state]].filter((needle) => !this.outputs[state].includes(needle)));
      for (let symbol = 0; symbol < this.width; symbol++) {
        const target = goto[state].get(symbol);
        const fallback = this.next[failure[state] * this.width + symbol];
        if (target === undefined) {
          this.next[state * this.width + symbol] = fallback;
        } else {
          failure[target] = fallback;
          this.next[state * this.width + symbol] = target;
          queue.push(target);
        }
      }
    }
  }

  /** Returns every occurrence in order of where it ends; a shared empty list when there is none, so misses allocate nothing. */
  hits(text: string): readonly NeedleHit[] {
    let found: NeedleHit[] | undefined;
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      state = this.next[state * this.width + (code < 128 ? this.ascii[code] : this.classes.get(code) ?? 0)];
      const ending = this.outputs[state];
      for (let k = 0; k < ending.length; k++) {
        const needle = ending[k];
        (found ??= []).push({ needle, start: i + 1 - this.needles[needle].length });
      }
    }
    return found ?? NO_HITS;
  }

  /** Returns the first needle that occurs, by where it ends, or undefined. */
  first(text: string): string | undefined {
    let state = 0;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      state = this.next[state * this.width + (code < 128 ? this.ascii[code] : this.classes.get(code) ?? 0)];
      const ending = this.outputs[state];
      if (ending.length > 0) return this.needles[ending[0]];
    }
    return undefined;
  }
}

const NO_HITS: readonly NeedleHit[] = Object.freeze([]);
