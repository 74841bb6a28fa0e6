import { createHmac } from 'node:crypto';

/*
 * Who sent a request, read without trusting it. The `sub` claim of a JSON Web Token is decoded but
 * not verified, because Watchpost has no keys and an attacker's claim is still the identity they
 * act as. API keys are reduced to a keyed hash at once, so no raw key leaves the worker thread.
 */

/** Maximum length, in characters, of a token that is decoded; longer ones are treated as not a JWT. */
const MAX_TOKEN_LENGTH = 8192;

/** The parts of a JWT's header and payload that detection reads. */
export interface JwtClaims {
  /** The `alg` header; undefined when the header has none. */
  alg?: string;
  /** Header parameters that point the verifier at other keys (`jku`, `x5u`, `jwk`), which attackers abuse. */
  keyReferences: string[];
  sub?: string;
  /** Seconds since the epoch. */
  exp?: number;
  /** Seconds since the epoch. */
  iat?: number;
}

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  if (segment.length === 0) return undefined;
  try {
    const value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}

/** Decodes a compact JWS or unsecured JWT (`header.payload.signature`); undefined when the text is not one. */
export function decodeJwt(token: string): JwtClaims | undefined {
  if (token.length < 10 || token.length > MAX_TOKEN_LENGTH || !token.startsWith('eyJ')) return undefined;
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0 || token.indexOf('.', second + 1) >= 0) return undefined;
  const header = decodeSegment(token.slice(0, first));
  const payload = decodeSegment(token.slice(first + 1, second));
  if (!header || !payload) return undefined;
  const claims: JwtClaims = { keyReferences: ['jku', 'x5u', 'jwk'].filter((name) => header[name] !== undefined) };
  if (typeof header.alg === 'string') claims.alg = header.alg;
  if (typeof payload.sub === 'string' || typeof payload.sub === 'number') claims.sub = String(payload.sub);
  if (typeof payload.exp === 'number' && Number.isFinite(payload.exp)) claims.exp = payload.exp;
  if (typeof payload.iat === 'number' && Number.isFinite(payload.iat)) claims.iat = payload.iat;
  return claims;
}

/** Takes the token out of an `Authorization: Bearer …` value; other schemes give undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization || authorization.length < 8) return undefined;
  if (authorization.slice(0, 7).toLowerCase() !== 'bearer ') return undefined;
  const token = authorization.slice(7).trim();
  return token.length > 0 ? token : undefined;
}

/**
 * Computes the fingerprint of an API key: HMAC-SHA-256 under the configured key, hex, first 32 characters.
 * The same key always gives the same fingerprint under the same hash key, so findings can name
 * the key to revoke without carrying it.
 */
export function apiKeyFingerprint(apiKey: string, hashKey: string): string {
  return createHmac('sha256', hashKey).update(apiKey).digest('hex').slice(0, 32);
}
