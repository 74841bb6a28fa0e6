import { createHash, createHmac } from 'node:crypto';

/**
 * Signing as the Standard Webhooks specification (version 1.0.0) defines it: the HMAC-SHA256 of
 * `{webhook-id}.{webhook-timestamp}.{body}`, base64-encoded and prefixed with `v1,`, sent with
 * the id and the timestamp (Unix seconds) in the `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` headers. The id stays the same across retries, so receivers can
 * de-duplicate; the timestamp is the time of each attempt, so receivers can reject replays.
 */

/** The specification asks for secrets of at least 24 random bytes. */
export const MIN_SECRET_BYTES = 24;

/**
 * Returns the HMAC key of a secret: the base64-decoded part after `whsec_`, which is how the
 * specification serializes secrets, or the UTF-8 bytes of any other string.
 */
export function signingKey(secret: string): Buffer {
  if (secret.startsWith('whsec_')) return Buffer.from(secret.slice('whsec_'.length), 'base64');
  return Buffer.from(secret, 'utf8');
}

/** Returns a message for a secret that is too short to sign with, else undefined. */
export function checkSecret(secret: string): string | undefined {
  if (secret === '') return undefined;
  const key = signingKey(secret);
  if (key.length < MIN_SECRET_BYTES) {
    return `secret must be at least ${MIN_SECRET_BYTES} bytes (as whsec_<base64> or plain text), got ${key.length} bytes`;
  }
  return undefined;
}

/** Returns the `webhook-signature` value for one message. */
export function signature(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  const digest = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${digest}`;
}

/** Returns the three Standard Webhooks headers for one attempt. */
export function signedHeaders(key: Buffer, id: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature(key, id, timestamp, body) };
}

/**
 * Derives a message id from the ids of what the message carries, so a retry, or a redelivery
 * after a restart, carries the same id. The id has no `.`, which the signed content uses as its
 * separator.
 */
export function messageId(itemIds: readonly string[]): string {
  if (itemIds.length === 1 && /^[A-Za-z0-9_-]+$/.test(itemIds[0])) return `msg_${itemIds[0]}`;
  const hash = createHash('sha256');
  for (const id of itemIds) hash.update(id).update('\u0000');
  return `msg_${hash.digest('hex').slice(0, 32)}`;
}
