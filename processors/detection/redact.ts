/**
 * Masks secrets and personal data in the one-line request summaries that findings carry as
 * evidence: values of query parameters and path parameters (`/cart;jsessionid=…`) whose names
 * suggest credentials, JSON Web Tokens, e-mail addresses, payment card numbers (digit runs that
 * pass the Luhn check) and passwords in URLs (`https://user:secret@host`). Findings leave the
 * daemon for SIEMs and chat tools, so they must not carry these.
 */

import { normalize } from './decode.js';
import { CREDENTIAL_PARAMETERS } from './detectors/credentials.js';

/** Parameter names whose values are masked, lower-case: every name the credentials detector flags, and more. */
const SECRET_PARAMETERS = new Set([
  ...CREDENTIAL_PARAMETERS,
  'pass', 'password', 'passwd', 'pwd', 'secret', 'token', 'access_token', 'refresh_token', 'id_token', 'api_key', 'api-key', 'apikey',
  'key', 'auth', 'authorization', 'session', 'sessionid', 'sid', 'jwt', 'code', 'client_secret', 'private_key', 'signature', 'sig',
  'otp', 'pin', 'ssn', 'card', 'cardnumber', 'card_number', 'cc', 'cvv', 'jsessionid', 'phpsessid',
]);
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const EMAIL = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}/g;
/** Runs of 13 to 19 digits, optionally split by single spaces or dashes, as card numbers are written. */
const CARD = /\b\d(?:[ -]?\d){12,18}\b/g;
/** The password of user info in a URL, raw or percent-encoded (`%3A`, `%40`). */
const URL_PASSWORD = /(\/\/[^/:@\s%]{1,64})(?::|%3A)([^/@\s]{1,128})(@|%40)/gi;

export const MASK = '<redacted>';

/**
 * Masks secret query values, JWTs and e-mail addresses in a query string. A query with nothing
 * to mask is returned as it is, without copying.
 */
export function redactQuery(query: string): string {
  let output: string | undefined;
  /** End of the part of `query` already copied into `output`. */
  let copied = 0;
  for (let start = 0; start <= query.length;) {
    let end = query.indexOf('&', start);
    if (end < 0) end = query.length;
    const replacement = redactParameter(query, start, end);
    if (replacement !== undefined) {
      output = (output ?? '') + query.slice(copied, start) + replacement;
      copied = end;
    }
    start = end + 1;
  }
  return output === undefined ? query : output + query.slice(copied);
}

/** Returns the masked form of the parameter `query[start, end)`, or undefined when it has nothing to mask. */
function redactParameter(query: string, start: number, end: number): string | undefined {
  const equals = query.indexOf('=', start);
  if (equals < 0 || equals >= end) {
    const part = query.slice(start, end);
    const masked = redactText(part);
    return masked === part ? undefined : masked;
  }
  const name = query.slice(start, equals);
  if (isSecretParameter(name)) return `${name}=${MASK}`;
  const value = query.slice(equals + 1, end);
  const masked = redactText(value);
  return masked === value ? undefined : `${name}=${masked}`;
}

/** Reports whether a raw, possibly percent-encoded parameter name is one whose value is masked. */
function isSecretParameter(name: string): boolean {
  let decodedName = name;
  if (name.indexOf('%') >= 0) {
    try {
      decodedName = decodeURIComponent(name);
    } catch {
      // Keep the raw name when it is not valid percent-encoding.
    }
  }
  const lower = decodedName.toLowerCase();
  return SECRET_PARAMETERS.has(lower.endsWith('[]') ? lower.slice(0, -2) : lower);
}

/**
 * Masks a URL path: the values of secret path parameters, such as the session id that servlet
 * containers and PHP append as `/cart;jsessionid=…`, and then what redactText masks. A path
 * with nothing to mask is returned as it is.
 */
export function redactPath(path: string): string {
  const masked = path.indexOf(';') >= 0 || path.indexOf('%') >= 0 ? redactPathParameters(path) : path;
  return redactText(masked);
}

function redactPathParameters(path: string): string {
  const segments = path.split('/');
  let changed = false;
  for (let i = 0; i < segments.length; i++) {
    const masked = redactSegmentParameters(segments[i]);
    if (masked !== segments[i]) {
      segments[i] = masked;
      changed = true;
    }
  }
  return changed ? segments.join('/') : path;
}

/**
 * Masks the secret parameters of one path segment. It also splits on `;` and `=` percent-encoded
 * once (`%3B`, `%3D`), because the credentials-in-url detector judges the decoded path.
 */
function redactSegmentParameters(segment: string): string {
  // split() with a capture group keeps the separators: [head, separator, parameter, separator, parameter, …].
  const parts = segment.split(/(;|%3b)/i);
  for (let i = 2; i < parts.length; i += 2) {
    const equals = /=|%3d/i.exec(parts[i]);
    if (equals && isSecretParameter(parts[i].slice(0, equals.index))) parts[i] = `${parts[i].slice(0, equals.index + equals[0].length)}${MASK}`;
  }
  const masked = parts.length > 1 ? parts.join('') : segment;
  // Separators encoded more than once (`%253B`) are not split above. The detector decodes them,
  // so a segment whose decoded form still carries a secret parameter is masked whole.
  return masked.indexOf('%') >= 0 && hasSecretParameter(normalize(masked)) ? MASK : masked;
}

/** Reports whether a decoded, lower-case path segment has a secret `;name=value` parameter that is not masked yet. */
function hasSecretParameter(decoded: string): boolean {
  const parameters = decoded.split(';');
  for (let i = 1; i < parameters.length; i++) {
    const equals = parameters[i].indexOf('=');
    if (equals > 0 && SECRET_PARAMETERS.has(parameters[i].slice(0, equals)) && parameters[i].slice(equals + 1) !== MASK) return true;
  }
  return false;
}

/** Reports whether a digit string passes the Luhn check that payment card numbers carry. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 0x30;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** Masks JWTs, URL passwords, e-mail addresses and card numbers in free text. */
export function redactText(text: string): string {
  let output = text;
  if (output.indexOf('eyJ') >= 0) output = output.replace(JWT, MASK);
  if (output.indexOf('//') >= 0) output = output.replace(URL_PASSWORD, `$1:${MASK}$3`);
  if (output.indexOf('@') >= 0 || output.indexOf('%40') >= 0) {
    output = output.replace(EMAIL, MASK).replace(/[A-Za-z0-9._+-]{1,64}%40[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}/g, MASK);
  }
  if (countDigits(output) >= 13) output = output.replace(CARD, (match) => (passesLuhn(match.replace(/[ -]/g, '')) ? MASK : match));
  return output;
}

/** Counts the ASCII digits in text; a card number has at least 13. */
function countDigits(text: string): number {
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x30 && code <= 0x39) digits++;
  }
  return digits;
}
