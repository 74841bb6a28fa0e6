import { withoutPathParameters } from '../helper/path.js';

/*
 * Route templates for requests whose telemetry carries no `http.route`: path segments that are
 * identifiers (numbers, UUIDs, hex digests, long opaque tokens) become `{id}`, so
 * `/api/v1/orders/1234/items/9` and `/api/v1/orders/77/items/2` share the route
 * `/api/v1/orders/{id}/items/{id}`. Every check is a single pass over the segment.
 */

/** Maximum length, in characters, of a path that is templated; longer paths keep only this prefix. */
const MAX_TEMPLATE_PATH = 2048;

/** The placeholder an identifier segment becomes. */
export const ID_PLACEHOLDER = '{id}';

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isHex(code: number): boolean {
  return isDigit(code) || (code >= 0x61 && code <= 0x66) || (code >= 0x41 && code <= 0x46);
}

function isAlphanumeric(code: number): boolean {
  return isDigit(code) || (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a);
}

/** 8-4-4-4-12 hex digits with dashes, in any case. */
function isUuid(segment: string): boolean {
  if (segment.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const dash = i === 8 || i === 13 || i === 18 || i === 23;
    if (dash ? segment[i] !== '-' : !isHex(segment.charCodeAt(i))) return false;
  }
  return true;
}

/**
 * Reports whether a path segment is an identifier rather than a name. Identifiers are all digits,
 * UUIDs, 16 or more hex digits with at least one digit (digests, Mongo ObjectIds), and opaque
 * tokens of 20 or more letters, digits, `-` and `_` that mix digits and letters (base64url ids, ULIDs).
 */
export function isIdentifierSegment(segment: string): boolean {
  return isIdentifierAt(segment, 0, segment.length);
}

/** Applies the same test to `text[start, end)`, so templating needs no substring per segment. */
function isIdentifierAt(text: string, start: number, end: number): boolean {
  const length = end - start;
  if (length === 0 || length > 128) return false;
  let digits = 0;
  let hex = 0;
  let letters = 0;
  let other = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (isDigit(code)) digits++;
    else if (isHex(code)) hex++;
    else if (isAlphanumeric(code)) letters++;
    else if (code === 0x2d || code === 0x5f) other++;
    else return false;
  }
  if (digits === length) return true;
  if (length === 36 && isUuid(text.slice(start, end))) return true;
  if (letters === 0 && other === 0 && length >= 16 && digits > 0) return true;
  return length >= 20 && digits > 0 && letters + hex > 0;
}

/**
 * Builds the route template of a path: identifier segments become `{id}`; the query and path
 * parameters (`;jsessionid=…`) are not part of it. A path without either is returned as it is.
 */
export function routeTemplate(path: string): string {
  const plain = withoutPathParameters(path);
  const bounded = plain.length > MAX_TEMPLATE_PATH ? plain.slice(0, MAX_TEMPLATE_PATH) : plain;
  let template: string | undefined;
  /** End of the part of `bounded` already copied into `template`. */
  let copied = 0;
  let start = 0;
  for (let i = 0; i <= bounded.length; i++) {
    if (i < bounded.length && bounded.charCodeAt(i) !== 0x2f) continue;
    if (isIdentifierAt(bounded, start, i)) {
      template = (template ?? '') + bounded.slice(copied, start) + ID_PLACEHOLDER;
      copied = i;
    }
    start = i + 1;
  }
  return template === undefined ? bounded : template + bounded.slice(copied);
}

/** Reports whether the route segment `route[start, end)` is a parameter: `{id}`, `{orderId}`, `:id` or `<id>`. */
function isParameterAt(route: string, start: number, end: number): boolean {
  if (end - start < 2) return false;
  const first = route.charCodeAt(start);
  const last = route.charCodeAt(end - 1);
  return (first === 0x7b && last === 0x7d) || first === 0x3a || (first === 0x3c && last === 0x3e);
}

/**
 * Returns the object id a request addresses: the path segment under the last parameter of the
 * route, such as `1234` for `/orders/1234` and the route `/orders/{id}`. Undefined when the route
 * has no parameter or does not line up with the path.
 */
export function objectId(path: string, route: string): string | undefined {
  if (route.indexOf('{') < 0 && route.indexOf(':') < 0 && route.indexOf('<') < 0) return undefined;
  // Walks both segment by segment; they line up when they have as many segments.
  let routeStart = 0;
  let pathStart = 0;
  let id: string | undefined;
  for (;;) {
    let routeEnd = route.indexOf('/', routeStart);
    let pathEnd = path.indexOf('/', pathStart);
    if (routeEnd < 0) routeEnd = route.length;
    if (pathEnd < 0) pathEnd = path.length;
    if (isParameterAt(route, routeStart, routeEnd)) id = withoutPathParameters(path.slice(pathStart, pathEnd)) || undefined;
    const routeDone = routeEnd === route.length;
    const pathDone = pathEnd === path.length;
    if (routeDone || pathDone) return routeDone && pathDone ? id : undefined;
    routeStart = routeEnd + 1;
    pathStart = pathEnd + 1;
  }
}
