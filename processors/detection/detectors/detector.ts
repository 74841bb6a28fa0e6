import type { EventView } from '../view.js';

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
