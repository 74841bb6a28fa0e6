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
  private readonly results = new Map<string, string | undefined>();

  get(agent: string, check: (agent: string) => string | undefined): string | undefined {
    if (this.results.has(agent)) return this.results.get(agent);
    const result = check(agent);
    if (this.results.size >= AGENT_CACHE_SIZE) this.results.clear();
    this.results.set(agent, result);
    return result;
  }
}

/**
 * Runs a check over values and returns the first finding as `location: what`. Values from the
 * user agent go through the cache.
 */
export function inspectValues(values: Inspected[], check: (value: string, location: string) => string | undefined, cache?: AgentCache): string | undefined {
  for (const { location, value } of values) {
    const found = cache && location === 'user_agent.original' ? cache.get(value, (agent) => check(agent, location)) : check(value, location);
    if (found) return `${location}: ${found}`;
  }
  return undefined;
}
