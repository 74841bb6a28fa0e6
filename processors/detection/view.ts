import type { HttpEvent } from './event.js';
import { MAX_MATCH_LENGTH, normalize, percentDecode, queryParameters } from './decode.js';
import type { ApiLookup, ApiSpec } from './openapi.js';

/** One decoded value a detector inspects, with where it came from for the finding's detail. */
export interface Inspected {
  /** The place the value came from: `url.path`, `url.query:id`, `user_agent.original`, `http.request.header.cookie:session`. */
  location: string;
  /** Decoded and lower-cased; see `normalize`. */
  value: string;
}

/** Settings detectors read, from the processor config. */
export interface DetectorContext {
  /** JWTs whose `exp` lies further than this after the request are weak, in milliseconds. */
  jwtMaxLifetimeMs: number;
  /** The OpenAPI document for the `api_spec` condition, when one is configured. */
  apiSpec?: ApiSpec;
}

export const DEFAULT_DETECTOR_CONTEXT: DetectorContext = { jwtMaxLifetimeMs: 30 * 24 * 3600_000 };

/**
 * Headers whose values are not inspected for injections: they carry protocol data that clients
 * generate, secrets handled elsewhere, or addresses the proxy logic reads.
 */
const UNINSPECTED_HEADERS = new Set([
  'host', 'accept', 'accept-encoding', 'accept-language', 'accept-charset', 'connection', 'content-length', 'te',
  'user-agent', 'authorization', 'proxy-authorization', 'x-api-key', 'x-forwarded-for', 'forwarded', 'x-real-ip',
  'traceparent', 'tracestate', 'baggage', 'if-none-match', 'if-modified-since', 'cache-control', 'pragma', 'upgrade-insecure-requests',
  'sec-fetch-site', 'sec-fetch-mode', 'sec-fetch-dest', 'sec-fetch-user', 'sec-ch-ua', 'sec-ch-ua-mobile', 'sec-ch-ua-platform', 'dnt',
  'x-request-id', 'x-correlation-id', 'x-amzn-trace-id', 'x-b3-traceid', 'x-b3-spanid', 'x-b3-sampled', 'content-type',
]);

/** Parameter names that are inspected like values, because names are attacker text too (`u_id[$ne]`, `<script>`). */
function isOddName(name: string): boolean {
  if (name.length > 24) return true;
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    const plain = (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || code === 0x5f || code === 0x2e || code === 0x2d;
    if (!plain) return true;
  }
  return false;
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
  private headerValues?: Inspected[];
  private everything?: Inspected[];
  private spec?: ApiLookup | null;
  readonly detectorResults = new Map<string, string | null>();
  readonly macroResults = new Map<string, boolean>();

  constructor(readonly event: HttpEvent, readonly context: DetectorContext = DEFAULT_DETECTOR_CONTEXT) {}

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
        if (isOddName(name)) this.parameters.push({ location: 'url.query', value: name });
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

  /**
   * Decoded values of request headers that clients fill with free text: cookies split into
   * name and value, the Referer with its query parameters, and headers outside the protocol's own.
   */
  get headers(): Inspected[] {
    if (!this.headerValues) {
      this.headerValues = [];
      for (const [name, value] of Object.entries(this.event.headers ?? {})) {
        if (UNINSPECTED_HEADERS.has(name)) continue;
        if (name === 'cookie') this.addCookies(value);
        else if (name === 'referer') this.addReferer(value);
        else this.headerValues.push({ location: `http.request.header.${name}`, value: normalize(value) });
      }
    }
    return this.headerValues;
  }

  /** Query parameters, the user agent and header values: every input except the path. */
  get inputs(): Inspected[] {
    if (!this.everything) {
      this.everything = [...this.query, ...this.headers];
      if (this.userAgent) this.everything.push({ location: 'user_agent.original', value: normalize(this.userAgent) });
    }
    return this.everything;
  }

  /** Looks this request up in the OpenAPI document; undefined when no document is configured. */
  apiLookup(): ApiLookup | undefined {
    if (this.spec === undefined) {
      const spec = this.context.apiSpec;
      this.spec = spec ? spec.lookup(this.event['http.request.method'] ?? 'GET', this.event['url.path'] ?? '/') : null;
    }
    return this.spec ?? undefined;
  }

  private addCookies(header: string): void {
    for (const pair of header.split(';').slice(0, 64)) {
      const equals = pair.indexOf('=');
      const name = (equals >= 0 ? pair.slice(0, equals) : pair).trim();
      const value = equals >= 0 ? pair.slice(equals + 1).trim() : '';
      const location = `http.request.header.cookie:${percentDecode(name).slice(0, 64)}`;
      if (value) this.headerValues?.push({ location, value: normalize(value) });
      if (isOddName(name.toLowerCase())) this.headerValues?.push({ location: 'http.request.header.cookie', value: normalize(name) });
    }
  }

  private addReferer(referer: string): void {
    const question = referer.indexOf('?');
    if (question < 0) {
      this.headerValues?.push({ location: 'http.request.header.referer', value: normalize(referer) });
      return;
    }
    this.headerValues?.push({ location: 'http.request.header.referer', value: normalize(referer.slice(0, question)) });
    for (const { name, value } of queryParameters(referer.slice(question + 1))) {
      this.headerValues?.push({ location: `http.request.header.referer:${name.slice(0, 64)}`, value });
    }
  }
}
