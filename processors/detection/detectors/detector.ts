import type { EventView, Inspected } from '../view.js';
import { WORD } from '../chars.js';

/**
 * A stateless detector: it judges one request, in the worker pool, and returns a one-line
 * detail of what it found (`url.query:id: union select`) or undefined.
 */
export interface Detector {
  /** The name rules call it by: `detector: sqli`. */
  readonly name: string;
  readonly description: string;
  detect(view: EventView): string | undefined;
}

/** Values remembered at most, per cache; traffic repeats a few hundred user agents and referrers. */
const CACHE_SIZE = 4096;

/**
 * Remembers what a check returned for each value, since the same browser strings, referrers and
 * cookies arrive again and again and several checks tokenize them. The cache is cleared when
 * full, which keeps it bounded without bookkeeping per entry.
 */
export class ValueCache {
  private readonly results = new Map<string, string | null>();

  /** Returns the remembered result: a detail, null for nothing found, or undefined when the value is not remembered. */
  lookup(value: string): string | null | undefined {
    return this.results.get(value);
  }

  store(value: string, result: string | undefined): void {
    if (this.results.size >= CACHE_SIZE) this.results.clear();
    this.results.set(value, result ?? null);
  }

  get(value: string, check: (value: string) => string | undefined): string | undefined {
    const known = this.lookup(value);
    if (known !== undefined) return known ?? undefined;
    const result = check(value);
    this.store(value, result);
    return result;
  }
}

/** Results of the value checks for one repeated value, by the checking detector's slot: a detail, null for nothing found. */
type Verdicts = (string | null | undefined)[];

let slots = 0;

/** Reserves a detector's slot in the verdicts of repeated values. */
export function repeatSlot(): number {
  return slots++;
}

/** Verdicts of header values by value; bounded like ValueCache. */
const headerVerdicts = new Map<string, Verdicts>();

const HEADER_LOCATION = 'http.request.header.';

/**
 * Returns the verdicts of an input that repeats across requests, creating them on first use: the
 * user agent, and request headers other than the user agent. The view hands out one inspected
 * value per distinct user agent, so its verdicts live on it. Header values go through a map keyed
 * by value, so a header check must not depend on which header the value came from. Header values
 * of word characters alone get none, because the checks reject those faster than a lookup.
 */
function repeatedVerdicts(item: Inspected): Verdicts | undefined {
  if (item.verdicts) return item.verdicts;
  if (item.location === 'user_agent.original') {
    item.verdicts = [];
    return item.verdicts;
  }
  if ((item.classes & ~WORD) === 0 || !item.location.startsWith(HEADER_LOCATION)) return undefined;
  let verdicts = headerVerdicts.get(item.value);
  if (!verdicts) {
    if (headerVerdicts.size >= CACHE_SIZE) headerVerdicts.clear();
    verdicts = [];
    headerVerdicts.set(item.value, verdicts);
  }
  item.verdicts = verdicts;
  return verdicts;
}

/** A check of one decoded value; `classes` are the value's character classes (see chars.ts). */
export type ValueCheck = (value: string, location: string, classes: number) => string | undefined;

/**
 * Runs a check over values and returns the first finding as `location: what`. With a `slot`, the
 * results for the user agent and header values are remembered across requests.
 */
export function inspectValues(values: Inspected[], check: ValueCheck, slot?: number): string | undefined {
  for (let i = 0; i < values.length; i++) {
    const item = values[i];
    const verdicts = slot === undefined ? undefined : repeatedVerdicts(item);
    let found: string | undefined;
    if (verdicts) {
      const known = verdicts[slot as number];
      if (known === undefined) {
        found = check(item.value, item.location, item.classes);
        verdicts[slot as number] = found ?? null;
      } else {
        found = known ?? undefined;
      }
    } else {
      found = check(item.value, item.location, item.classes);
    }
    if (found) return `${item.location}: ${found}`;
  }
  return undefined;
}
