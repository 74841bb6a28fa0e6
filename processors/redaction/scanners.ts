/*
 * Finders of secrets and personal data in free text. Each scans the text once with hand-written
 * loops, so the time is linear in the text whatever an attacker sends; none uses a regular
 * expression. Each returns the ranges to replace.
 */

export type RedactionKind = 'bearer' | 'jwt' | 'url_credentials' | 'secret_parameter' | 'card_number' | 'email' | 'secret_key' | 'pattern';

export interface Range {
  start: number;
  end: number;
  kind: RedactionKind;
}

function isAlphaNumeric(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isBase64Url(code: number): boolean {
  return isAlphaNumeric(code) || code === 0x2d || code === 0x5f;
}

/** Characters of a token after `Bearer `: base64, base64url and the token68 punctuation of RFC 7235. */
function isTokenChar(code: number): boolean {
  return isAlphaNumeric(code) || code === 0x2d || code === 0x2e || code === 0x5f || code === 0x7e || code === 0x2b || code === 0x2f || code === 0x3d;
}

function lower(code: number): number {
  return code >= 0x41 && code <= 0x5a ? code + 32 : code;
}

/** Reports whether `word` (lower-case ASCII) is at `index`, ignoring ASCII case. */
function startsWithAt(text: string, index: number, word: string): boolean {
  if (index + word.length > text.length) return false;
  for (let i = 0; i < word.length; i++) if (lower(text.charCodeAt(index + i)) !== word.charCodeAt(i)) return false;
  return true;
}

/** `Bearer <token>` and `Basic <credentials>` in Authorization-style text: the credentials. */
export function findAuthorizationCredentials(text: string, ranges: Range[]): void {
  for (let i = 0; i < text.length; i++) {
    const code = lower(text.charCodeAt(i));
    let scheme = 0;
    if (code === 0x62 && startsWithAt(text, i, 'bearer')) scheme = 6;
    else if (code === 0x62 && startsWithAt(text, i, 'basic')) scheme = 5;
    if (scheme === 0 || (i > 0 && isAlphaNumeric(text.charCodeAt(i - 1)))) continue;
    let start = i + scheme;
    if (start >= text.length || (text[start] !== ' ' && text[start] !== '\t')) continue;
    while (start < text.length && (text[start] === ' ' || text[start] === '\t')) start++;
    let end = start;
    while (end < text.length && isTokenChar(text.charCodeAt(end))) end++;
    if (end > start && (end - start >= 8 || !isLettersOnly(text, start, end))) ranges.push({ start, end, kind: 'bearer' });
    i = end;
  }
}

/**
 * Reports whether text[start, end) contains ASCII letters only. A short word of letters after
 * "basic" or "bearer" is prose ("basic auth", "bearer token"), while short credentials such as
 * `abc123` have a digit or a symbol.
 */
function isLettersOnly(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const code = lower(text.charCodeAt(i));
    if (code < 0x61 || code > 0x7a) return false;
  }
  return true;
}

/** JSON Web Tokens: `eyJ…` header, a dot, a payload, a dot and a signature that may be empty (alg none). */
export function findJwts(text: string, ranges: Range[]): void {
  let from = 0;
  for (;;) {
    const start = text.indexOf('eyJ', from);
    if (start < 0) return;
    // A run of token characters is judged once, from its first character.
    let end = start;
    while (end < text.length && (isBase64Url(text.charCodeAt(end)) || text.charCodeAt(end) === 0x2e)) end++;
    if (start === 0 || !isBase64Url(text.charCodeAt(start - 1))) {
      const parts = text.slice(start, end).split('.');
      if (parts.length === 3 && parts[0].length >= 10 && parts[1].length >= 4) ranges.push({ start, end, kind: 'jwt' });
    }
    from = Math.max(end, start + 3);
  }
}

/** `scheme://user:password@host`: the password. */
export function findUrlCredentials(text: string, ranges: Range[]): void {
  let from = 0;
  for (;;) {
    const marker = text.indexOf('://', from);
    if (marker < 0) return;
    const start = marker + 3;
    let end = start;
    let colon = -1;
    while (end < text.length) {
      const char = text[end];
      if (char === '@' || char === '/' || char === '?' || char === '#' || char === ' ' || char === '"' || char === "'" || char === '\n') break;
      if (char === ':' && colon < 0) colon = end;
      end++;
    }
    if (end < text.length && text[end] === '@' && colon >= 0 && end > colon + 1) ranges.push({ start: colon + 1, end, kind: 'url_credentials' });
    from = Math.max(end, start);
  }
}

function normalizeName(name: string): string {
  return name.toLowerCase().replace(/-/g, '_');
}

function isNameChar(code: number): boolean {
  return isAlphaNumeric(code) || code === 0x5f || code === 0x2d || code === 0x2e || code === 0x5b || code === 0x5d;
}

const VALUE_END = new Set(['&', ';', ' ', '\t', '\n', '\r', '"', "'", ',', '}', ']', '<', '>']);

/**
 * `name=value` pairs (query strings, form bodies, logfmt) and `"name": "value"` pairs (JSON)
 * whose name is a secret parameter: the value.
 */
export function findSecretParameters(text: string, names: ReadonlySet<string>, ranges: Range[]): void {
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char !== '=' && char !== ':') continue;
    let nameEnd = i;
    let quoted = false;
    if (char === ':') {
      while (nameEnd > 0 && text[nameEnd - 1] === ' ') nameEnd--;
      if (nameEnd === 0 || text[nameEnd - 1] !== '"') continue;
      nameEnd--;
      quoted = true;
    }
    let nameStart = nameEnd;
    while (nameStart > 0 && nameEnd - nameStart < 64 && isNameChar(text.charCodeAt(nameStart - 1))) nameStart--;
    if (nameStart === nameEnd || (quoted && (nameStart === 0 || text[nameStart - 1] !== '"'))) continue;
    if (!names.has(normalizeName(text.slice(nameStart, nameEnd)))) continue;

    let start = i + 1;
    if (quoted) {
      while (start < text.length && text[start] === ' ') start++;
      if (text[start] !== '"') continue;
      start++;
      let end = start;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      end = Math.min(end, text.length);
      if (end > start) ranges.push({ start, end, kind: 'secret_parameter' });
      i = end;
    } else {
      let end = start;
      while (end < text.length && !VALUE_END.has(text[end])) end++;
      end = extendOverScheme(text, start, end);
      if (end > start) ranges.push({ start, end, kind: 'secret_parameter' });
      i = end - 1;
    }
  }
}

/** For a value that is an authorization scheme (`authorization=Bearer abc…`), the end of the credentials after it. */
function extendOverScheme(text: string, start: number, end: number): number {
  const length = end - start;
  if ((length !== 6 || !startsWithAt(text, start, 'bearer')) && (length !== 5 || !startsWithAt(text, start, 'basic'))) return end;
  let next = end;
  while (next < text.length && text[next] === ' ') next++;
  if (next === end) return end;
  let tokenEnd = next;
  while (tokenEnd < text.length && isTokenChar(text.charCodeAt(tokenEnd))) tokenEnd++;
  return tokenEnd > next ? tokenEnd : end;
}

function isLocalChar(code: number): boolean {
  return isAlphaNumeric(code) || code === 0x2e || code === 0x5f || code === 0x25 || code === 0x2b || code === 0x2d;
}

function isDomainChar(code: number): boolean {
  return isAlphaNumeric(code) || code === 0x2e || code === 0x2d;
}

/** E-mail addresses, also with the `@` percent-encoded as `%40`. */
export function findEmails(text: string, ranges: Range[]): void {
  let from = 0;
  for (;;) {
    const plain = text.indexOf('@', from);
    const encoded = text.indexOf('%40', from);
    if (plain < 0 && encoded < 0) return;
    const at = encoded >= 0 && (plain < 0 || encoded < plain) ? encoded : plain;
    const width = at === encoded ? 3 : 1;
    let start = at;
    while (start > 0 && at - start < 64 && isLocalChar(text.charCodeAt(start - 1))) start--;
    let end = at + width;
    while (end < text.length && end - at < 253 && isDomainChar(text.charCodeAt(end))) end++;
    while (end > at + width && (text[end - 1] === '.' || text[end - 1] === '-')) end--;
    // `user:password@host` is the user information of a URL, unless it follows `mailto:`.
    const userInfo = start > 0 && text[start - 1] === ':' && !(start >= 7 && startsWithAt(text, start - 7, 'mailto:'));
    if (start < at && text[start] !== '.' && !userInfo && validDomain(text.slice(at + width, end))) ranges.push({ start, end, kind: 'email' });
    from = at + width;
  }
}

function validDomain(domain: string): boolean {
  const labels = domain.split('.');
  if (labels.length < 2 || labels.some((label) => label.length === 0 || label.length > 63)) return false;
  const top = labels[labels.length - 1];
  if (top.length < 2) return false;
  for (let i = 0; i < top.length; i++) {
    const code = lower(top.charCodeAt(i));
    if (code < 0x61 || code > 0x7a) return false;
  }
  return true;
}

/** Checks the Luhn (mod 10) digit that card numbers carry last. */
export function luhnValid(digits: string): boolean {
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

/**
 * Returns the payment card brand whose prefix and length the digits have, if any: Visa, Mastercard,
 * American Express, Discover, JCB, Diners Club or UnionPay. Maestro's wide ranges are left out,
 * because they would match ordinary numbers too often.
 */
export function cardBrand(digits: string): string | undefined {
  const length = digits.length;
  const prefix = (count: number) => Number(digits.slice(0, count));
  if (digits[0] === '4' && (length === 13 || length === 16 || length === 19)) return 'visa';
  if (length === 16 && ((prefix(2) >= 51 && prefix(2) <= 55) || (prefix(4) >= 2221 && prefix(4) <= 2720))) return 'mastercard';
  if (length === 15 && (prefix(2) === 34 || prefix(2) === 37)) return 'amex';
  if (length >= 16 && length <= 19 && (prefix(4) === 6011 || prefix(2) === 65 || (prefix(3) >= 644 && prefix(3) <= 649))) return 'discover';
  if (length >= 16 && length <= 19 && prefix(4) >= 3528 && prefix(4) <= 3589) return 'jcb';
  if (length >= 14 && length <= 19 && ((prefix(3) >= 300 && prefix(3) <= 305) || prefix(2) === 36 || prefix(2) === 38 || prefix(2) === 39)) return 'diners';
  if (length >= 16 && length <= 19 && prefix(2) === 62) return 'unionpay';
  return undefined;
}

/**
 * Finds payment card numbers: 13 to 19 digits, together or in groups of 3 to 6 split by single
 * spaces or dashes, not inside a longer word or number. The digits must have a card brand's
 * prefix and length and a valid Luhn check digit. Within a run of digit groups (`qty 2 4111 1111 1111 1111`), every
 * window of whole groups is tried, at most 19 groups from each start, so the time stays linear.
 */
export function findCardNumbers(text: string, ranges: Range[]): void {
  let i = 0;
  while (i < text.length) {
    if (!isDigit(text.charCodeAt(i)) || (i > 0 && (isAlphaNumeric(text.charCodeAt(i - 1)) || text[i - 1] === '.'))) {
      i++;
      continue;
    }
    const groups: { start: number; end: number }[] = [];
    let end = i;
    for (;;) {
      const groupStart = end;
      while (end < text.length && isDigit(text.charCodeAt(end))) end++;
      groups.push({ start: groupStart, end });
      if (end + 1 < text.length && (text[end] === ' ' || text[end] === '-') && isDigit(text.charCodeAt(end + 1))) {
        end++;
        continue;
      }
      break;
    }
    i = end;
    const boundedAfter = end >= text.length || !(isAlphaNumeric(text.charCodeAt(end)) || text[end] === '.');
    findCardWindows(text, groups, boundedAfter, ranges);
  }
}

function findCardWindows(text: string, groups: { start: number; end: number }[], boundedAfter: boolean, ranges: Range[]): void {
  let first = 0;
  while (first < groups.length) {
    let found = -1;
    let digits = '';
    for (let last = first; last < groups.length; last++) {
      const size = groups[last].end - groups[last].start;
      if (last > first && (size < 3 || size > 6)) break;
      if (last === first + 1 && (digits.length < 3 || digits.length > 6)) break;
      digits += text.slice(groups[last].start, groups[last].end);
      if (digits.length > 19) break;
      const closes = last < groups.length - 1 || boundedAfter;
      if (closes && digits.length >= 13 && cardBrand(digits) && luhnValid(digits)) found = last;
    }
    if (found < 0) {
      first++;
      continue;
    }
    ranges.push({ start: groups[first].start, end: groups[found].end, kind: 'card_number' });
    first = found + 1;
  }
}
