import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Checks `Authorization: Bearer <token>` values against the configured token. The comparison
 * takes the same time wherever the values differ, because both sides are hashed to the same
 * length first. Neither the configured nor the presented token is ever put in a message.
 */
export class BearerTokenCheck {
  private readonly expected: Buffer;

  constructor(token: string) {
    this.expected = digest(token);
  }

  /** Reports whether an Authorization header or metadata value carries the configured token. */
  accepts(authorization: string | undefined): boolean {
    if (!authorization) return false;
    const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (!match) return false;
    return timingSafeEqual(digest(match[1]), this.expected);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Creates the check for a protocol's `auth` section, or undefined when authentication is off. */
export function bearerTokenCheck(auth: { bearer_token: string } | undefined): BearerTokenCheck | undefined {
  return auth && auth.bearer_token !== '' ? new BearerTokenCheck(auth.bearer_token) : undefined;
}
