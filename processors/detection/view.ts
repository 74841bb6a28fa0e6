import type { HttpEvent } from './event.js';
import { withoutPathParameters } from '../helper/path.js';
import { boundForMatching, forEachQueryParameter, headAndTail, normalize, percentDecode, queryParameters } from './decode.js';
import { charClasses } from './chars.js';
import type { ApiLookup, ApiSpec } from './openapi.js';

/** One decoded value a detector inspects, with where it came from for the finding's detail. */
export interface Inspected {
  /** The place the value came from: `url.path`, `url.query:id`, `user_agent.original`, `http.request.header.cookie:session`. */
  location: string;
  /** The decoded parameter name of a query parameter's value (`id` for `url.query:id`); undefined for other values. */
  parameter?: string;
  /** Decoded and lower-cased; see `normalize`. */
  value: string;
  /** The character classes of `value` (see chars.ts), for detectors to skip values that cannot hold their attack. */
  classes: number;
  /** Detector results remembered for a value that repeats across requests (see detectors/detector.ts). */
  verdicts?: (string | null | undefined)[];
}

/** Builds an inspected value, computing its character classes. */
export function inspected(location: string, value: string, parameter?: string): Inspected {
  return { location, parameter, value, classes: charClasses(value), verdicts: undefined };
}

/** User agents whose normalized form is remembered at most; traffic repeats a few hundred of them. */
const AGENT_CACHE_SIZE = 4096;
const normalizedAgents = new Map<string, { bounded: string; input: Inspected }>();

/**
 * Returns the lower-cased, bounded user agent and its normalized form as an input, from a cache.
 * Handing out the same strings for the same agent also lets detectors' caches find them fast,
 * since V8 keeps a string's hash once computed.
 */
function normalizedAgent(raw: string): { bounded: string; input: Inspected } {
  let entry = normalizedAgents.get(raw);
  if (!entry) {
    const bounded = boundForMatching(raw).toLowerCase();
    entry = { bounded, input: inspected('user_agent.original', normalize(bounded)) };
    if (normalizedAgents.size >= AGENT_CACHE_SIZE) normalizedAgents.clear();
    normalizedAgents.set(raw, entry);
  }
  return entry;
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
  private pathInput?: Inspected[];
  private pathSegments?: Inspected[];
  private parameters?: Inspected[];
  private agent?: { bounded: string; input: Inspected };
  private headerValues?: Inspected[];
  private everything?: Inspected[];
  private spec?: ApiLookup | null;
  /**
   * Detector results by the detector's index in `DETECTOR_LIST`: a detail, null for nothing
   * found, undefined before the call. Created by the first detector condition that runs.
   */
  detectorResults?: (string | null | undefined)[];
  /** Indexes of the detectors called so far, in call order, for the finding's details. */
  readonly detectorsCalled: number[] = [];
  /** Macro results by the macro's slot, assigned when conditions are compiled. */
  readonly macroResults: (boolean | undefined)[] = [];

  constructor(readonly event: HttpEvent, readonly context: DetectorContext = DEFAULT_DETECTOR_CONTEXT) {}

  /** The path, percent-decoded until stable, with HTML entities decoded, NUL removed and lower-cased. */
  get path(): string {
    this.decodedPath ??= normalize(this.event['url.path'] ?? '');
    return this.decodedPath;
  }

  /** The decoded path as the one input of detectors that also judge the path as a whole. */
  get pathAsInput(): Inspected[] {
    this.pathInput ??= [inspected('url.path', this.path)];
    return this.pathInput;
  }

  /** Decoded path segments, for detectors that judge ids in paths such as `/orders/1 OR 1=1`. */
  get segments(): Inspected[] {
    if (!this.pathSegments) {
      this.pathSegments = [];
      for (const value of this.path.split('/')) if (value.length > 0) this.pathSegments.push(inspected('url.path', value));
    }
    return this.pathSegments;
  }

  /** Decoded query parameter values, and the names too when they are long or odd. */
  get query(): Inspected[] {
    if (!this.parameters) {
      const parameters: Inspected[] = [];
      forEachQueryParameter(this.event['url.query'] ?? '', (name, value) => {
        parameters.push(inspected(`url.query:${name.slice(0, 64)}`, value, name));
        if (isOddName(name)) parameters.push(inspected('url.query', name));
      });
      this.parameters = parameters;
    }
    return this.parameters;
  }

  /** The user agent, lower-cased and bounded. */
  get userAgent(): string {
    return this.agentEntry().bounded;
  }

  private agentEntry(): { bounded: string; input: Inspected } {
    this.agent ??= normalizedAgent(this.event['user_agent.original'] ?? '');
    return this.agent;
  }

  /**
   * Decoded values of request headers that clients fill with free text: cookies split into
   * name and value, the Referer with its query parameters, and headers outside the protocol's own.
   */
  get headers(): Inspected[] {
    if (!this.headerValues) {
      this.headerValues = [];
      const headers = this.event.headers;
      if (headers) {
        for (const name in headers) {
          if (UNINSPECTED_HEADERS.has(name)) continue;
          const value = headers[name];
          if (name === 'cookie') this.addCookies(value);
          else if (name === 'referer') this.addReferer(value);
          else this.headerValues.push(inspected(`http.request.header.${name}`, normalize(value)));
        }
      }
    }
    return this.headerValues;
  }

  /** Query parameters, the user agent and header values: every input except the path. */
  get inputs(): Inspected[] {
    if (!this.everything) {
      const query = this.query;
      const headers = this.headers;
      const agent = this.agentEntry();
      if (headers.length === 0 && !agent.bounded) {
        this.everything = query;
      } else {
        this.everything = query.concat(headers);
        if (agent.bounded) this.everything.push(agent.input);
      }
    }
    return this.everything;
  }

  /** Looks this request up in the OpenAPI document; undefined when no document is configured. */
  apiLookup(): ApiLookup | undefined {
    if (this.spec === undefined) {
      const spec = this.context.apiSpec;
      // Path parameters (`;jsessionid=…`) are not part of a documented path.
      this.spec = spec ? spec.lookup(this.event['http.request.method'] ?? 'GET', withoutPathParameters(this.event['url.path'] ?? '/')) : null;
    }
    return this.spec ?? undefined;
  }

  private addCookies(header: string): void {
    // Empty pairs are dropped before the bound, so `;;;;…` cannot push a cookie out of sight.
    const pairs = header.split(';').filter((pair) => pair.trim().length > 0);
    for (const pair of headAndTail(pairs, 64)) {
      const equals = pair.indexOf('=');
      const name = (equals >= 0 ? pair.slice(0, equals) : pair).trim();
      const value = equals >= 0 ? pair.slice(equals + 1).trim() : '';
      const location = `http.request.header.cookie:${percentDecode(name).slice(0, 64)}`;
      if (value) this.headerValues?.push(inspected(location, normalize(value)));
      if (isOddName(name.toLowerCase())) this.headerValues?.push(inspected('http.request.header.cookie', normalize(name)));
    }
  }

  private addReferer(referer: string): void {
    const question = referer.indexOf('?');
    if (question < 0) {
      this.headerValues?.push(inspected('http.request.header.referer', normalize(referer)));
      return;
    }
    this.headerValues?.push(inspected('http.request.header.referer', normalize(referer.slice(0, question))));
    for (const { name, value } of queryParameters(referer.slice(question + 1))) {
      this.headerValues?.push(inspected(`http.request.header.referer:${name.slice(0, 64)}`, value));
    }
  }
}
