/**
 * Decoding of attacker-supplied text before matching, the way servers and frameworks decode it,
 * so that an encoded payload is judged like the plain one. Every function here runs in time
 * linear in its input and uses no backtracking regular expressions.
 */

/** Maximum length, in characters, of a value that detectors look at; see `boundForMatching`. */
export const MAX_MATCH_LENGTH = 8192;

/**
 * Bounds a value for matching. A longer value keeps the first and the last half of `limit`,
 * joined by `joiner`, so padding placed before or after a payload does not push it out of
 * sight. A payload with more than half the limit of padding on both sides is not seen.
 */
export function boundForMatching(text: string, limit = MAX_MATCH_LENGTH, joiner = ' '): string {
  if (text.length <= limit) return text;
  const half = limit >> 1;
  return `${text.slice(0, half)}${joiner}${text.slice(text.length - half)}`;
}

/** Keeps the first and the last half of `limit` items of a longer list, as `boundForMatching` does for text. */
export function headAndTail<T>(items: T[], limit: number): T[] {
  if (items.length <= limit) return items;
  const half = limit >> 1;
  return [...items.slice(0, half), ...items.slice(items.length - half)];
}

/** Decoding rounds for nested percent-encoding (`%252e` is `%2e` is `.`). */
const MAX_DECODE_ROUNDS = 3;

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

/**
 * Decodes `%XX` escapes (and `+` as a space when `plusAsSpace`), plus IIS-style `%uXXXX`.
 * Decoded bytes are read as UTF-8 that tolerates overlong forms, so `%c0%ae` becomes `.` as
 * lenient servers read it. A `%` not followed by two hex digits stays as it is.
 */
export function percentDecode(text: string, plusAsSpace = false): string {
  if (text.indexOf('%') < 0 && (!plusAsSpace || text.indexOf('+') < 0)) return text;
  return decodeEscapes(text, plusAsSpace);
}

/** Decodes text that has escapes, for `percentDecode`. A separate function, so that text without escapes allocates nothing. */
function decodeEscapes(text: string, plusAsSpace: boolean): string {
  let output = '';
  let bytes: number[] = [];
  /** Start of the run of plain characters not yet copied to the output. */
  let plain = 0;
  const flush = (end: number) => {
    if (bytes.length > 0) {
      output += decodeLenientUtf8(bytes);
      bytes = [];
    }
    if (end > plain) output += text.slice(plain, end);
  };
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x2b && plusAsSpace) {
      flush(i);
      output += ' ';
      plain = i + 1;
      continue;
    }
    if (code !== 0x25 || i + 2 >= text.length) continue;
    const high = hexValue(text.charCodeAt(i + 1));
    const low = hexValue(text.charCodeAt(i + 2));
    if (high >= 0 && low >= 0) {
      // Consecutive escapes gather into one byte run, so multi-byte UTF-8 decodes as one character.
      if (i > plain) flush(i);
      bytes.push(high * 16 + low);
      i += 2;
      plain = i + 1;
      continue;
    }
    if ((text[i + 1] === 'u' || text[i + 1] === 'U') && i + 5 < text.length) {
      const digits = [2, 3, 4, 5].map((offset) => hexValue(text.charCodeAt(i + offset)));
      if (digits.every((digit) => digit >= 0)) {
        flush(i);
        output += String.fromCharCode(digits[0] * 4096 + digits[1] * 256 + digits[2] * 16 + digits[3]);
        i += 5;
        plain = i + 1;
      }
    }
  }
  flush(text.length);
  return output;
}

/**
 * Reads bytes as UTF-8 the way a permissive decoder would: overlong sequences give the code
 * point they encode, and anything else invalid becomes U+FFFD.
 */
export function decodeLenientUtf8(bytes: number[]): string {
  let output = '';
  for (let i = 0; i < bytes.length; i++) {
    const first = bytes[i];
    let length = 0;
    let codePoint = 0;
    if (first < 0x80) {
      output += String.fromCharCode(first);
      continue;
    } else if ((first & 0xe0) === 0xc0) {
      length = 2;
      codePoint = first & 0x1f;
    } else if ((first & 0xf0) === 0xe0) {
      length = 3;
      codePoint = first & 0x0f;
    } else if ((first & 0xf8) === 0xf0) {
      length = 4;
      codePoint = first & 0x07;
    } else {
      output += '\ufffd';
      continue;
    }
    let valid = i + length <= bytes.length;
    for (let j = 1; valid && j < length; j++) {
      const next = bytes[i + j];
      if ((next & 0xc0) !== 0x80) valid = false;
      else codePoint = (codePoint << 6) | (next & 0x3f);
    }
    if (!valid || codePoint > 0x10ffff) {
      output += '\ufffd';
      continue;
    }
    output += String.fromCodePoint(codePoint);
    i += length - 1;
  }
  return output;
}

/** Percent-decodes until the text stops changing, at most three rounds. */
export function decodeRepeatedly(text: string, plusAsSpace = false): string {
  // Encoded padding shrinks when decoded (`%2541` is one character), so the bound applies to the
  // decoded text. The raw text gets a wider bound, so decoding stays linear in a bounded input.
  let current = boundForMatching(text, MAX_MATCH_LENGTH * 8);
  for (let round = 0; round < MAX_DECODE_ROUNDS; round++) {
    const next = percentDecode(current, plusAsSpace && round === 0);
    if (next === current) break;
    current = next;
  }
  return boundForMatching(current);
}

const NAMED_ENTITIES: Record<string, string> = {
  lt: '<', gt: '>', quot: '"', apos: "'", amp: '&', sol: '/', bsol: '\\', colon: ':', lpar: '(', rpar: ')',
  tab: '\t', newline: '\n', nbsp: ' ', grave: '`', equals: '=', semi: ';', comma: ',', period: '.', num: '#',
};

/** Decodes HTML character references (`&lt;`, `&#60;`, `&#x3c;`, with or without `;`). */
export function decodeHtmlEntities(text: string): string {
  if (text.indexOf('&') < 0) return text;
  let output = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '&') {
      output += text[i];
      continue;
    }
    let j = i + 1;
    let value: string | undefined;
    if (text[j] === '#') {
      const hex = text[j + 1] === 'x' || text[j + 1] === 'X';
      j += hex ? 2 : 1;
      const start = j;
      while (j < text.length && j - start < 8 && (hex ? hexValue(text.charCodeAt(j)) >= 0 : text.charCodeAt(j) >= 0x30 && text.charCodeAt(j) <= 0x39)) j++;
      if (j > start) {
        const codePoint = parseInt(text.slice(start, j), hex ? 16 : 10);
        if (codePoint > 0 && codePoint <= 0x10ffff) value = String.fromCodePoint(codePoint);
      }
    } else {
      const start = j;
      while (j < text.length && j - start < 10 && /[A-Za-z]/.test(text[j])) j++;
      value = NAMED_ENTITIES[text.slice(start, j).toLowerCase()];
    }
    if (value === undefined) {
      output += '&';
      continue;
    }
    if (text[j] === ';') j++;
    output += value;
    i = j - 1;
  }
  return output;
}

/**
 * Brings text into the form detectors match against: percent-decoded (repeatedly), HTML entities
 * decoded, NUL bytes removed, compatibility forms folded (NFKC), and lower-cased.
 */
export function normalize(text: string, plusAsSpace = false): string {
  let value = decodeRepeatedly(text, plusAsSpace);
  value = decodeHtmlEntities(value);
  // One pass finds which of the remaining steps this value needs; most values need none.
  let nul = false;
  let compatibility = false;
  let cased = false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0) nul = true;
    else if (code >= 0x41 && code <= 0x5a) cased = true;
    else if (code > 0x7f) {
      cased = true;
      if (isCompatibilityForm(code)) compatibility = true;
    }
  }
  if (nul) value = value.split('\0').join('');
  if (compatibility) value = value.normalize('NFKC');
  return cased || compatibility ? value.toLowerCase() : value;
}

/**
 * Reports whether a UTF-16 code unit is among the fullwidth and halfwidth forms or the symbol
 * blocks (circled letters, letterlike symbols) that NFKC folds to ASCII (`＜ｓｃｒｉｐｔ＞`), as
 * some back ends do.
 */
function isCompatibilityForm(code: number): boolean {
  return (code >= 0x2000 && code <= 0x2bff) || (code >= 0xff00 && code <= 0xffef);
}

/** Splits a query string into its decoded names and values, as a server would see them. */
export function queryParameters(query: string): { name: string; value: string }[] {
  const parameters: { name: string; value: string }[] = [];
  forEachQueryParameter(query, (name, value) => parameters.push({ name, value }));
  return parameters;
}

/** Calls `visit` with the decoded name and value of each parameter of a query string, in order. */
export function forEachQueryParameter(query: string, visit: (name: string, value: string) => void): void {
  if (!query) return;
  const bounded = boundForMatching(query, MAX_MATCH_LENGTH * 4, '&');
  for (let start = 0; start <= bounded.length;) {
    let end = bounded.indexOf('&', start);
    if (end < 0) end = bounded.length;
    if (end > start) {
      const equals = bounded.indexOf('=', start);
      const split = equals >= 0 && equals < end;
      visit(normalize(bounded.slice(start, split ? equals : end), true), split ? normalize(bounded.slice(equals + 1, end), true) : '');
    }
    start = end + 1;
  }
}
