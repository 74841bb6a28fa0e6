import type { HttpEvent } from './event.js';
import { MAX_MATCH_LENGTH, normalize, queryParameters } from './decode.js';

/** One decoded value a detector inspects, with where it came from for the finding's detail. */
export interface Inspected {
  /** Where the value was found: `url.path`, `url.query:id`, `user_agent.original`. */
  location: string;
  value: string;
}

/**
 * An event with its decoded forms computed on first use and kept, so that ten rules calling
 * the same detector decode the request once.
 */
export class EventView {
  private decodedPath?: string;
  private pathSegments?: Inspected[];
  private parameters?: Inspected[];
  private agent?: string;
  readonly detectorResults = new Map<string, string | null>();

  constructor(readonly event: HttpEvent) {}

  /** The path, percent-decoded until stable, with HTML entities decoded, NUL removed and lower-cased. */
  get path(): string {
    this.decodedPath ??= normalize(this.event['url.path'] ?? '');
    return this.decodedPath;
  }

  /** Decoded path segments, for detectors that judge ids in paths such as `/orders/1 OR 1=1`. */
  get segments(): Inspected[] {
    this.pathSegments ??= this.path.split('/').filter((segment) => segment.length > 0).map((value) => ({ location: 'url.path', value }));
    return this.pathSegments;
  }

  /** Decoded query parameter values, and the names too when they are long or odd. */
  get query(): Inspected[] {
    if (!this.parameters) {
      this.parameters = [];
      for (const { name, value } of queryParameters(this.event['url.query'] ?? '')) {
        this.parameters.push({ location: `url.query:${name.slice(0, 64)}`, value });
        if (name.length > 24 || /[^a-z0-9_.\-[\]]/.test(name)) this.parameters.push({ location: 'url.query', value: name });
      }
    }
    return this.parameters;
  }

  /** The user agent, lower-cased and bounded. */
  get userAgent(): string {
    if (this.agent === undefined) {
      const raw = this.event['user_agent.original'] ?? '';
      this.agent = (raw.length > MAX_MATCH_LENGTH ? raw.slice(0, MAX_MATCH_LENGTH) : raw).toLowerCase();
    }
    return this.agent;
  }
}
