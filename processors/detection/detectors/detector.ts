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

/** Values remembered per detector and kind of input at most; traffic repeats a few hundred user agents and referrers. */
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

/**
 * One detector's caches for inputs that repeat across requests: the user agent, and request
 * headers other than the user agent. A header check must not depend on which header the value
 * came from, since one cache serves them all.
 */
export class RepeatCaches {
  readonly agents = new ValueCache();
  readonly headers = new ValueCache();
}

/** A check of one decoded value; `classes` are the value's character classes (see chars.ts). */
export type ValueCheck = (value: string, location: string, classes: number) => string | undefined;

const HEADER_LOCATION = 'http.request.header.';

/**
 * Runs a check over values and returns the first finding as `location: what`. Values of the user
 * agent and of headers go through the caches. Header values of word characters alone skip them,
 * because the checks reject those faster than a cache lookup.
 */
export function inspectValues(values: Inspected[], check: ValueCheck, caches?: RepeatCaches): string | undefined {
  for (let i = 0; i < values.length; i++) {
    const item = values[i];
    let cache: ValueCache | undefined;
    if (caches) {
      if (item.location === 'user_agent.original') cache = caches.agents;
      else if ((item.classes & ~WORD) !== 0 && item.location.startsWith(HEADER_LOCATION)) cache = caches.headers;
    }
    let found: string | undefined;
    if (cache) {
      const known = cache.lookup(item.value);
      if (known === undefined) {
        found = check(item.value, item.location, item.classes);
        cache.store(item.value, found);
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
