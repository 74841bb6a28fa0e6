import type { Detector } from './detector.js';
import type { EventView } from '../view.js';

/*
 * Requests no HTTP client sends: a request line the gateway could not split (binary from a TLS
 * handshake or a port scanner on the HTTP port), a method that is not an HTTP token, or a target
 * that is neither a path, `*`, nor an absolute URL. Scanners and exploit kits produce these.
 */

/** `token` characters of RFC 9110 section 5.6.2 that methods use in practice: letters, digits, `-` and `_`. */
function isMethod(method: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_-]{0,23}$/.test(method);
}

function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0xfffd) return true;
  }
  return false;
}

/** Checks a request's method, target and unsplit request line; returns what is wrong, or undefined. */
export function detectProtocolViolation(method: string | undefined, path: string | undefined, requestLine: string | undefined): string | undefined {
  if (method === undefined && path === undefined) return requestLine !== undefined ? 'malformed request line' : undefined;
  if (method !== undefined && !isMethod(method)) return method === '-' || method === '' ? 'no request method' : 'invalid request method';
  if (path === undefined) return undefined;
  if (path === '') return 'empty request target';
  if (!path.startsWith('/') && path !== '*' && !/^https?:\/\//i.test(path)) return 'request target is not a path';
  if (hasControlCharacters(path)) return 'control characters in the request target';
  return undefined;
}

export const protocolViolation: Detector = {
  name: 'protocol_violation',
  description: 'Malformed requests: unsplit or binary request lines, invalid methods, targets that are not paths.',
  detect: (view: EventView) => {
    const event = view.event;
    const found = detectProtocolViolation(event['http.request.method'], event['url.path'], event['http.request.line']);
    return found ? `request: ${found}` : undefined;
  },
};
