/**
 * Masks secrets and personal data in the one-line request summaries that findings carry as
 * evidence: values of query parameters whose names suggest credentials, JSON Web Tokens, e-mail
 * addresses, payment card numbers (digit runs that pass the Luhn check) and passwords in URLs
 * (`https://user:secret@host`). Findings leave the daemon for SIEMs and chat tools, so they must
 * not carry these.
 */

const SECRET_PARAMETER = /^(?:pass(?:word|wd)?|pwd|secret|token|access_token|refresh_token|id_token|api[_-]?key|apikey|key|auth|authorization|session(?:id)?|sid|jwt|code|client_secret|private_key|signature|sig|otp|pin|ssn|card(?:_?number)?|cc|cvv)$/i;
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const EMAIL = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}/g;
/** Runs of 13 to 19 digits, optionally split by single spaces or dashes, as card numbers are written. */
const CARD = /\b\d(?:[ -]?\d){12,18}\b/g;
/** The password of user info in a URL, raw or percent-encoded (`%3A`, `%40`). */
const URL_PASSWORD = /(\/\/[^/:@\s%]{1,64})(?::|%3A)([^/@\s]{1,128})(@|%40)/gi;

export const MASK = '<redacted>';

/** Masks secret query values, JWTs and e-mail addresses in a query string. */
export function redactQuery(query: string): string {
  return query.split('&').map((part) => {
    const equals = part.indexOf('=');
    if (equals < 0) return redactText(part);
    const name = part.slice(0, equals);
    let decodedName = name;
    try {
      decodedName = decodeURIComponent(name);
    } catch {
      // Keep the raw name when it is not valid percent-encoding.
    }
    return SECRET_PARAMETER.test(decodedName) ? `${name}=${MASK}` : `${name}=${redactText(part.slice(equals + 1))}`;
  }).join('&');
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
  if (/\d{4}/.test(output)) output = output.replace(CARD, (match) => (passesLuhn(match.replace(/[ -]/g, '')) ? MASK : match));
  return output;
}
