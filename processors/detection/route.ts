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
  const length = segment.length;
  if (length === 0 || length > 128) return false;
  let digits = 0;
  let hex = 0;
  let letters = 0;
  let other = 0;
  for (let i = 0; i < length; i++) {
    const code = segment.charCodeAt(i);
    if (isDigit(code)) digits++;
    else if (isHex(code)) hex++;
    else if (isAlphanumeric(code)) letters++;
    else if (code === 0x2d || code === 0x5f) other++;
    else return false;
  }
  if (digits === length) return true;
  if (isUuid(segment)) return true;
  if (letters === 0 && other === 0 && length >= 16 && digits > 0) return true;
  return length >= 20 && digits > 0 && letters + hex > 0;
}

/** Builds the route template of a path: identifier segments become `{id}`; the query is not part of it. */
export function routeTemplate(path: string): string {
  const bounded = path.length > MAX_TEMPLATE_PATH ? path.slice(0, MAX_TEMPLATE_PATH) : path;
  const segments = bounded.split('/');
  for (let i = 0; i < segments.length; i++) {
    if (isIdentifierSegment(segments[i])) segments[i] = ID_PLACEHOLDER;
  }
  return segments.join('/');
}

/** Reports whether a route segment is a parameter: `{id}`, `{orderId}`, `:id` or `<id>`. */
function isParameterSegment(segment: string): boolean {
  if (segment.length < 2) return false;
  const first = segment[0];
  const last = segment[segment.length - 1];
  return (first === '{' && last === '}') || first === ':' || (first === '<' && last === '>');
}

/**
 * Returns the object id a request addresses: the path segment under the last parameter of the
 * route, such as `1234` for `/orders/1234` and the route `/orders/{id}`. Undefined when the route
 * has no parameter or does not line up with the path.
 */
export function objectId(path: string, route: string): string | undefined {
  const routeSegments = route.split('/');
  const pathSegments = path.split('/');
  if (routeSegments.length !== pathSegments.length) return undefined;
  for (let i = routeSegments.length - 1; i >= 0; i--) {
    if (isParameterSegment(routeSegments[i])) return pathSegments[i] || undefined;
  }
  return undefined;
}
