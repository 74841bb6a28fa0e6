/*
 * Character classes of a decoded value, as a bit set computed in one pass. Detectors test it
 * before any other work: a value without the characters an attack needs (a quote, `<`, `$`, a
 * slash ...) is skipped at the cost of one AND. Most values of ordinary traffic (numbers, words,
 * ids) hold none of them.
 */

export const QUOTE = 1 << 0; // ' " `
export const ANGLE = 1 << 1; // < >
export const PAREN = 1 << 2; // ( )
export const SEMICOLON = 1 << 3;
export const PIPE = 1 << 4;
export const AMPERSAND = 1 << 5;
export const DOLLAR = 1 << 6;
export const BRACE = 1 << 7; // { }
export const BRACKET = 1 << 8; // [ ]
export const BACKSLASH = 1 << 9;
export const SLASH = 1 << 10;
export const DOT = 1 << 11;
export const COLON = 1 << 12;
export const EQUALS = 1 << 13;
export const HASH = 1 << 14;
export const AT = 1 << 15;
export const PERCENT = 1 << 16;
/** Space, tab, vertical tab, form feed. */
export const SPACE = 1 << 17;
/** Other characters below U+0020 and DEL: line breaks, NUL, escapes. */
export const CONTROL = 1 << 18;
export const WILDCARD = 1 << 19; // * ?
export const DASH = 1 << 20;
export const COMMA = 1 << 21;
/** Any character above U+007F. */
export const NON_ASCII = 1 << 22;
export const EXCLAMATION = 1 << 23;
export const TILDE = 1 << 24;
export const PLUS = 1 << 25;
export const CARET = 1 << 26;
export const DIGIT = 1 << 27;
export const LETTER = 1 << 28;
export const UNDERSCORE = 1 << 29;

/** Characters that only make up words and numbers. */
export const WORD = LETTER | DIGIT | UNDERSCORE;

const ASCII_CLASSES = new Int32Array(128);

function assign(characters: string, bit: number): void {
  for (const character of characters) ASCII_CLASSES[character.charCodeAt(0)] |= bit;
}

for (let code = 0; code < 0x20; code++) ASCII_CLASSES[code] = CONTROL;
ASCII_CLASSES[0x7f] = CONTROL;
ASCII_CLASSES[0x20] = SPACE;
ASCII_CLASSES[0x09] = SPACE;
ASCII_CLASSES[0x0b] = SPACE;
ASCII_CLASSES[0x0c] = SPACE;
assign('\'"`', QUOTE);
assign('<>', ANGLE);
assign('()', PAREN);
assign(';', SEMICOLON);
assign('|', PIPE);
assign('&', AMPERSAND);
assign('$', DOLLAR);
assign('{}', BRACE);
assign('[]', BRACKET);
assign('\\', BACKSLASH);
assign('/', SLASH);
assign('.', DOT);
assign(':', COLON);
assign('=', EQUALS);
assign('#', HASH);
assign('@', AT);
assign('%', PERCENT);
assign('*?', WILDCARD);
assign('-', DASH);
assign(',', COMMA);
assign('!', EXCLAMATION);
assign('~', TILDE);
assign('+', PLUS);
assign('^', CARET);
assign('0123456789', DIGIT);
assign('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', LETTER);
assign('_', UNDERSCORE);

/** Returns the classes of the characters in `text`, ORed together. */
export function charClasses(text: string): number {
  let classes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    classes |= code < 128 ? ASCII_CLASSES[code] : NON_ASCII;
  }
  return classes;
}
