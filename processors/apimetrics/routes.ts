import { withoutPathParameters } from '../helper/path.js';

/*
 * Route templates: normalizing the parameter syntax of different frameworks, matching a path
 * against OpenAPI templates, and deriving a template from a path that has none. Everything here
 * runs in time linear in the path and uses no regular expressions on it.
 */

/** An OpenAPI path with its methods, split into segments; `null` segments are parameters. */
export interface RouteTemplate {
  template: string;
  segments: (string | null)[];
  methods: string[];
}

/** Maximum path length, in characters, that is matched or normalized; longer paths are cut. */
const MAX_PATH_LENGTH = 2048;

function isParameter(segment: string): boolean {
  return (segment.startsWith('{') && segment.endsWith('}')) || segment.startsWith(':') || (segment.startsWith('<') && segment.endsWith('>')) || segment === '*';
}

function split(path: string): string[] {
  const bounded = path.length > MAX_PATH_LENGTH ? path.slice(0, MAX_PATH_LENGTH) : path;
  const question = bounded.indexOf('?');
  return withoutPathParameters(question >= 0 ? bounded.slice(0, question) : bounded).split('/').filter((segment) => segment !== '');
}

/** Rewrites a route in one syntax for comparison: parameters of any framework (`{id}`, `:id`, `<id>`) become `{}`. */
export function canonicalRoute(route: string): string {
  return `/${split(route).map((segment) => (isParameter(segment) ? '{}' : segment)).join('/')}`;
}

export function parseTemplate(template: string, methods: string[]): RouteTemplate {
  return { template, segments: split(template).map((segment) => (isParameter(segment) ? null : segment)), methods };
}

/** Finds the template a concrete path matches, preferring the one with the most literal segments. */
export function matchTemplate(path: string, templates: readonly RouteTemplate[]): RouteTemplate | undefined {
  const segments = split(path);
  let best: RouteTemplate | undefined;
  let bestLiterals = -1;
  for (const candidate of templates) {
    if (candidate.segments.length !== segments.length) continue;
    let literals = 0;
    let ok = true;
    for (let i = 0; i < segments.length && ok; i++) {
      const expected = candidate.segments[i];
      if (expected === null) continue;
      if (expected === segments[i]) literals++;
      else ok = false;
    }
    if (ok && literals > bestLiterals) {
      best = candidate;
      bestLiterals = literals;
    }
  }
  return best;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isHex(code: number): boolean {
  return isDigit(code) || (code >= 0x61 && code <= 0x66) || (code >= 0x41 && code <= 0x46);
}

/**
 * Reports whether a path segment looks like an identifier rather than a fixed name. Identifiers
 * are numbers, UUIDs, hex of eight or more characters with a digit, and tokens of 16 or more
 * characters mixing letters and digits (such as base64 or ULID ids).
 */
export function isIdLike(segment: string): boolean {
  let digits = 0;
  let hex = 0;
  let letters = 0;
  let dashes = 0;
  let other = 0;
  for (let i = 0; i < segment.length; i++) {
    const code = segment.charCodeAt(i);
    if (isDigit(code)) digits++;
    if (isHex(code)) hex++;
    if ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) letters++;
    else if (code === 0x2d) dashes++;
    else if (!isDigit(code) && code !== 0x5f) other++;
  }
  if (segment.length === 0 || other > 0) return false;
  if (digits === segment.length) return true;
  if (segment.length === 36 && dashes === 4 && hex === 32) return true;
  if (dashes === 0 && hex === segment.length && segment.length >= 8 && digits > 0) return true;
  return segment.length >= 16 && digits > 0 && letters > 0;
}

/** Replaces id-like path segments with `{id}`, so `/users/42/orders` becomes `/users/{id}/orders`. */
export function templateFromPath(path: string): string {
  return `/${split(path).map((segment) => (isIdLike(segment) ? '{id}' : segment)).join('/')}`;
}
