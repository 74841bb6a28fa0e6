import type { Detector } from './detector.js';
import type { EventView } from '../view.js';
import { decodeJwt, type JwtClaims } from '../identity.js';
import { percentDecode } from '../decode.js';

/*
 * Weak JSON Web Tokens: unsigned (`alg: none`), without an `alg` at all, without an expiry, or
 * expiring further after the request than the configured lifetime. Also tokens whose header
 * points the verifier at a key of the sender's choosing (`jku`, `x5u`, `jwk`). Tokens are read
 * from the bearer `Authorization` header, cookies and query parameters, without verification.
 */

/** What is weak about a token; undefined when nothing is. `time` is the request time, milliseconds. */
export function judgeJwt(claims: JwtClaims, time: number, maxLifetimeMs: number): string | undefined {
  if (claims.alg === undefined) return 'no alg';
  if (claims.alg.toLowerCase() === 'none') return 'alg none';
  if (claims.keyReferences.length > 0) return `header ${claims.keyReferences.join(', ')} names the verification key`;
  if (claims.exp === undefined) return 'no exp';
  const lifetime = claims.exp * 1000 - (time > 0 ? time : Date.now());
  if (lifetime > maxLifetimeMs) return `exp ${Math.round(lifetime / 86_400_000)} days after the request`;
  return undefined;
}

/** JWT-shaped strings in the raw query and cookies, where case is kept. */
function candidateTokens(view: EventView): { location: string; token: string }[] {
  const tokens: { location: string; token: string }[] = [];
  const query = view.event['url.query'];
  if (query && query.indexOf('eyJ') >= 0) {
    for (const part of query.split('&').slice(0, 64)) {
      const equals = part.indexOf('=');
      const value = equals >= 0 ? percentDecode(part.slice(equals + 1)) : '';
      if (value.startsWith('eyJ')) tokens.push({ location: `url.query:${percentDecode(part.slice(0, equals)).slice(0, 64)}`, token: value });
    }
  }
  const cookie = view.event.headers?.cookie;
  if (cookie && cookie.indexOf('eyJ') >= 0) {
    for (const pair of cookie.split(';').slice(0, 64)) {
      const equals = pair.indexOf('=');
      const value = equals >= 0 ? pair.slice(equals + 1).trim() : '';
      if (value.startsWith('eyJ')) tokens.push({ location: `http.request.header.cookie:${pair.slice(0, equals).trim().slice(0, 64)}`, token: value });
    }
  }
  return tokens;
}

export const weakJwt: Detector = {
  name: 'weak_jwt',
  description: 'JWTs that are unsigned, lack alg or exp, expire too late, or name their own verification key; from Authorization, cookies and the query.',
  detect: (view: EventView) => {
    const limit = view.context.jwtMaxLifetimeMs;
    const time = view.event.time;
    if (view.event.jwt) {
      const weakness = judgeJwt(view.event.jwt, time, limit);
      if (weakness) return `http.request.header.authorization: ${weakness}`;
    }
    for (const { location, token } of candidateTokens(view)) {
      const claims = decodeJwt(token);
      const weakness = claims ? judgeJwt(claims, time, limit) : undefined;
      if (weakness) return `${location}: ${weakness}`;
    }
    return undefined;
  },
};
