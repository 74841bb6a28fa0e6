import type { EventView, Inspected } from '../view.js';

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

/** User agents remembered per detector at most; most traffic repeats a few hundred of them. */
const AGENT_CACHE_SIZE = 4096;

/**
 * Remembers what a check returned for each user agent, since the same browser strings arrive
 * again and again and several checks tokenize them. The cache is cleared when full, which keeps
 * it bounded without bookkeeping per entry.
 */
export class AgentCache {
  private readonly results = new Map<string, string | null>();

  /** Returns the remembered result: a detail, null for nothing found, or undefined when the agent is not remembered. */
  lookup(agent: string): string | null | undefined {
    return this.results.get(agent);
  }

  store(agent: string, result: string | undefined): void {
    if (this.results.size >= AGENT_CACHE_SIZE) this.results.clear();
    this.results.set(agent, result ?? null);
  }

  get(agent: string, check: (agent: string) => string | undefined): string | undefined {
    const known = this.lookup(agent);
    if (known !== undefined) return known ?? undefined;
    const result = check(agent);
    this.store(agent, result);
    return result;
  }
}

/** A check of one decoded value; `classes` are the value's character classes (see chars.ts). */
export type ValueCheck = (value: string, location: string, classes: number) => string | undefined;

/**
 * Runs a check over values and returns the first finding as `location: what`. Values from the
 * user agent go through the cache.
 */
export function inspectValues(values: Inspected[], check: ValueCheck, cache?: AgentCache): string | undefined {
  for (let i = 0; i < values.length; i++) {
    const item = values[i];
    let found: string | undefined;
    if (cache && item.location === 'user_agent.original') {
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
