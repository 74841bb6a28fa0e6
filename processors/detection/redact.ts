/**
 * Masks secrets in the one-line request summaries that findings carry as evidence: values of
 * query parameters whose names suggest credentials, JSON Web Tokens anywhere, and e-mail
 * addresses. Findings leave the daemon for SIEMs and chat tools, so they must not carry these.
 */

const SECRET_PARAMETER = /^(?:pass(?:word|wd)?|pwd|secret|token|access_token|refresh_token|id_token|api[_-]?key|apikey|key|auth|authorization|session(?:id)?|sid|jwt|code|client_secret|private_key|signature|sig|otp|pin|ssn|card(?:_?number)?|cc|cvv)$/i;
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const EMAIL = /[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}/g;

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

/** Masks JWTs and e-mail addresses in free text. */
export function redactText(text: string): string {
  if (text.indexOf('eyJ') < 0 && text.indexOf('@') < 0 && text.indexOf('%40') < 0) return text;
  return text.replace(JWT, MASK).replace(EMAIL, MASK).replace(/[A-Za-z0-9._+-]{1,64}%40[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}/g, MASK);
}
