/*
 * A SQL tokenizer for attacker text: one pass, no regular expressions, at most MAX_TOKENS tokens.
 * It reads the dialects attackers aim at (MySQL, PostgreSQL, SQL Server, Oracle, SQLite) loosely,
 * since the aim is to see SQL structure, not to parse valid statements.
 */

/**
 * Token types. Values: `s` string, `n` number, `v` variable (`@x`, `@@version`), `b` other word.
 * Words with a role: `k` keyword, `o` logical operator, `f` function name (a word before `(`).
 * The rest: `c` comment, `t` type cast (`::int`), `=` comparison, `a` other operator or
 * character, and `(`, `)`, `,`, `;` as themselves.
 */
export type TokenType = 's' | 'n' | 'k' | 'o' | 'c' | 'f' | 'v' | 'b' | 't' | '(' | ')' | ',' | ';' | '=' | 'a';

export interface Token {
  type: TokenType;
  /** Lower-case for words; the raw text for strings, comments and operators. */
  text: string;
}

export const MAX_TOKENS = 256;

export const KEYWORDS = new Set([
  'select', 'union', 'except', 'intersect', 'insert', 'update', 'delete', 'replace', 'drop', 'from', 'where', 'having', 'group',
  'order', 'by', 'limit', 'into', 'values', 'table', 'database', 'schema', 'view', 'procedure', 'trigger', 'function', 'exec',
  'execute', 'immediate', 'declare', 'waitfor', 'delay', 'case', 'when', 'then', 'else', 'end', 'null', 'true', 'false', 'is',
  'like', 'rlike', 'regexp', 'glob', 'sounds', 'between', 'in', 'exists', 'all', 'distinct', 'create', 'alter', 'truncate',
  'shutdown', 'outfile', 'dumpfile', 'offset', 'top', 'join', 'as', 'set', 'load', 'returns', 'begin',
]);

/** Words that combine conditions. `||` and `&&` are read as these too, as MySQL does by default. */
export const LOGICAL = new Set(['or', 'and', 'xor', 'not', '||', '&&']);

const COMPARISONS = new Set(['=', '==', '<>', '!=', '<', '>', '<=', '>=', '<=>', '!<', '!>']);

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function isWordStart(code: number): boolean {
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || code === 0x5f || code === 0x24 || code > 0x7f;
}

function isWordPart(code: number): boolean {
  return isWordStart(code) || isDigit(code) || code === 0x2e;
}

function isNumberPart(code: number): boolean {
  return isDigit(code) || (code >= 0x61 && code <= 0x66) || (code >= 0x41 && code <= 0x46) || code === 0x2e || code === 0x78 || code === 0x58;
}

export function isSpace(char: string): boolean {
  return char === ' ' || char === '\t' || char === '\n' || char === '\r' || char === '\f' || char === '\v' || char === '\u00a0';
}

/** Reads a quoted string from `start` (the opening quote); doubled quotes and backslash escapes stay inside. */
function readString(text: string, start: number): number {
  const quote = text[start];
  let j = start + 1;
  while (j < text.length) {
    if (text[j] === '\\') j += 2;
    else if (text[j] === quote && text[j + 1] === quote) j += 2;
    else if (text[j] === quote) return j + 1;
    else j++;
  }
  return text.length;
}

/** Reads a comment from `start`; `--` and `#` comments end at a line break, as in SQL. */
function readComment(text: string, start: number): number {
  if (text[start] === '/') {
    const end = text.indexOf('*/', start + 2);
    return end < 0 ? text.length : end + 2;
  }
  const newline = text.indexOf('\n', start);
  return newline < 0 ? text.length : newline;
}

/** Classifies a word by what follows it: a function when `(` comes next, after optional spaces. */
function wordToken(text: string, start: number, end: number): Token {
  // Values reach the tokenizer lower-cased already (see normalize).
  const word = text.slice(start, end);
  let k = end;
  while (k < text.length && isSpace(text[k])) k++;
  if (LOGICAL.has(word)) return { type: 'o', text: word };
  if (text[k] === '(' && !KEYWORDS.has(word)) return { type: 'f', text: word };
  if (KEYWORDS.has(word)) return { type: 'k', text: word };
  return { type: 'b', text: word };
}

/** Tokenizes a lower-cased value as SQL. The content of MySQL's executable comments `/*!…*‌/` is read as SQL. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const length = text.length;
  let i = 0;
  while (i < length && tokens.length < MAX_TOKENS) {
    const char = text[i];
    const code = text.charCodeAt(i);
    if (isSpace(char)) {
      i++;
    } else if (char === "'" || char === '"') {
      const end = readString(text, i);
      tokens.push({ type: 's', text: text.slice(i, end) });
      i = end;
    } else if (char === '`') {
      const end = readString(text, i);
      tokens.push({ type: 'b', text: text.slice(i, end) });
      i = end;
    } else if ((char === '-' && text[i + 1] === '-') || char === '#' || (char === '/' && text[i + 1] === '*' && text[i + 2] !== '!')) {
      const end = readComment(text, i);
      tokens.push({ type: 'c', text: text.slice(i, end) });
      i = end;
    } else if (char === '/' && text[i + 1] === '*') {
      // MySQL runs the content of /*! ... */ comments: skip the marker and an optional version number.
      i += 3;
      while (i < length && isDigit(text.charCodeAt(i))) i++;
    } else if (char === '*' && text[i + 1] === '/') {
      i += 2;
    } else if (char === ':' && text[i + 1] === ':') {
      let j = i + 2;
      while (j < length && isSpace(text[j])) j++;
      const start = j;
      while (j < length && isWordStart(text.charCodeAt(j))) j++;
      tokens.push({ type: 't', text: text.slice(start, j) });
      i = Math.max(j, i + 2);
    } else if (isDigit(code) || (char === '.' && isDigit(text.charCodeAt(i + 1)))) {
      let j = i + 1;
      while (j < length && isNumberPart(text.charCodeAt(j))) j++;
      tokens.push({ type: 'n', text: text.slice(i, j) });
      i = j;
    } else if (char === '@') {
      let j = i + 1;
      while (j < length && (isWordPart(text.charCodeAt(j)) || text[j] === '@')) j++;
      tokens.push({ type: 'v', text: text.slice(i, j) });
      i = j;
    } else if (isWordStart(code)) {
      let j = i + 1;
      while (j < length && isWordPart(text.charCodeAt(j))) j++;
      // `select.1` and `union.select`: a keyword glued to what follows by a dot is still the keyword.
      const dot = text.indexOf('.', i);
      if (dot > i && dot < j && KEYWORDS.has(text.slice(i, dot))) j = dot;
      tokens.push(wordToken(text, i, j));
      i = j;
    } else if (char === '(' || char === ')' || char === ',' || char === ';') {
      tokens.push({ type: char, text: char });
      i++;
    } else if ((char === '|' && text[i + 1] === '|') || (char === '&' && text[i + 1] === '&')) {
      tokens.push({ type: 'o', text: char + char });
      i += 2;
    } else if (char === '=' || char === '<' || char === '>' || char === '!') {
      let j = i + 1;
      while (j < length && j - i < 3 && (text[j] === '=' || text[j] === '<' || text[j] === '>')) j++;
      const operator = text.slice(i, j);
      tokens.push({ type: COMPARISONS.has(operator) ? '=' : 'a', text: operator });
      i = j;
    } else {
      tokens.push({ type: 'a', text: char });
      i++;
    }
  }
  return tokens;
}

/**
 * Rewrites inline comments `/*…*‌/`: `join` removes them, so `UN/**‌/ION SEL/**‌/ECT` reads as
 * `UNION SELECT`; otherwise each becomes a space, so `SELECT/**‌/id` reads as `SELECT id`. The
 * content of `/*!` comments stays, because MySQL runs it.
 */
export function rewriteInlineComments(value: string, join: boolean): string {
  if (value.indexOf('/*') < 0) return value;
  let output = '';
  let i = 0;
  while (i < value.length) {
    const start = value.indexOf('/*', i);
    if (start < 0) {
      output += value.slice(i);
      break;
    }
    output += value.slice(i, start);
    if (value[start + 2] === '!') {
      output += ' ';
      i = start + 3;
      continue;
    }
    const end = value.indexOf('*/', start + 2);
    if (!join) output += ' ';
    i = end < 0 ? value.length : end + 2;
  }
  return output;
}
