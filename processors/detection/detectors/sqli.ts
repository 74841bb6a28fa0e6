import type { Detector } from './detector.js';
import type { EventView, Inspected } from '../view.js';

/*
 * SQL injection detection on a SQL tokenizer. A value is tokenized three ways: as it is, as if
 * it continued a single-quoted string, and as if it continued a double-quoted one, because an
 * injected value usually first closes the quote the application put around it. Each token list
 * is then checked for shapes that only make sense as SQL: a string or number followed by a
 * boolean operator and a comparison, UNION SELECT, stacked queries, time-delay functions,
 * comments right after a closed quote. Keywords alone never match, so text such as
 * "union station" or "O'Reilly" does not.
 */

type TokenType = 's' | 'n' | 'k' | 'o' | 'c' | 'f' | 'v' | 'b' | '(' | ')' | ',' | ';' | '=' | 'a';

interface Token {
  type: TokenType;
  text: string;
}

const KEYWORDS = new Set([
  'select', 'union', 'insert', 'update', 'delete', 'drop', 'from', 'where', 'having', 'group', 'order', 'by', 'limit',
  'into', 'values', 'table', 'exec', 'execute', 'declare', 'waitfor', 'delay', 'case', 'when', 'then', 'else', 'end',
  'null', 'is', 'like', 'rlike', 'regexp', 'between', 'in', 'exists', 'all', 'distinct', 'create', 'alter', 'truncate',
  'shutdown', 'procedure', 'outfile', 'dumpfile', 'load_file', 'offset', 'top', 'join', 'cast', 'convert', 'as', 'set',
]);
const LOGICAL = new Set(['or', 'and', 'xor', 'not', '||', '&&', 'div', 'mod']);
const STACKED_STATEMENTS = new Set(['drop', 'delete', 'insert', 'update', 'select', 'shutdown', 'exec', 'execute', 'declare', 'create', 'alter', 'truncate', 'waitfor', 'set']);
const DELAY_FUNCTIONS = new Set(['sleep', 'benchmark', 'pg_sleep', 'randomblob', 'dbms_lock.sleep', 'dbms_pipe.receive_message']);
const DANGEROUS_FUNCTIONS = new Set([
  'extractvalue', 'updatexml', 'load_file', 'xp_cmdshell', 'utl_inaddr.get_host_address', 'utl_http.request', 'version',
  'database', 'user', 'current_user', 'system_user', 'schema', 'char', 'chr', 'concat', 'concat_ws', 'group_concat',
  'ascii', 'substring', 'substr', 'mid', 'hex', 'unhex', 'count', 'if', 'ifnull', 'floor', 'rand', 'exp', 'json_keys',
]);
const CATALOG_NAMES = ['information_schema', 'sysobjects', 'syscolumns', 'pg_catalog', 'sqlite_master', 'mysql.user', 'all_tables', 'pg_shadow'];
const COMPARISONS = new Set(['=', '==', '<>', '!=', '<', '>', '<=', '>=', '<=>']);
const OPERAND: ReadonlySet<TokenType> = new Set(['s', 'n', 'b', 'v', 'f', '(']);

/** Tokenizes a value as SQL, in one pass. `/*!…*‌/` version comments are read as their content. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const length = text.length;
  let i = 0;
  while (i < length && tokens.length < 256) {
    const char = text[i];
    const code = text.charCodeAt(i);
    if (char === ' ' || char === '\t' || char === '\n' || char === '\r' || char === '\f' || char === '\v' || char === '\u00a0') {
      i++;
    } else if (char === "'" || char === '"' || char === '`') {
      let j = i + 1;
      while (j < length) {
        if (text[j] === '\\') j += 2;
        else if (text[j] === char && text[j + 1] === char) j += 2;
        else if (text[j] === char) break;
        else j++;
      }
      tokens.push({ type: char === '`' ? 'b' : 's', text: text.slice(i, Math.min(j + 1, length)) });
      i = j + 1;
    } else if ((char === '-' && text[i + 1] === '-') || char === '#') {
      tokens.push({ type: 'c', text: text.slice(i) });
      i = length;
    } else if (char === '/' && text[i + 1] === '*') {
      if (text[i + 2] === '!') {
        // MySQL executes the content of /*! ... */ comments, so read it as SQL: skip the marker and an optional version.
        i += 3;
        while (i < length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
        continue;
      }
      const end = text.indexOf('*/', i + 2);
      tokens.push({ type: 'c', text: end < 0 ? text.slice(i) : text.slice(i, end + 2) });
      i = end < 0 ? length : end + 2;
    } else if (char === '*' && text[i + 1] === '/') {
      i += 2;
    } else if (code >= 0x30 && code <= 0x39 || (char === '.' && isDigit(text.charCodeAt(i + 1)))) {
      let j = i + 1;
      if (char === '0' && (text[j] === 'x' || text[j] === 'X')) j++;
      while (j < length && /[0-9a-fA-F.eE]/.test(text[j])) j++;
      tokens.push({ type: 'n', text: text.slice(i, j) });
      i = j;
    } else if (char === '@') {
      let j = i + 1;
      while (j < length && /[A-Za-z0-9_@.$]/.test(text[j])) j++;
      tokens.push({ type: 'v', text: text.slice(i, j).toLowerCase() });
      i = j;
    } else if (/[A-Za-z_$]/.test(char) || code > 0x7f) {
      let j = i + 1;
      while (j < length && (/[A-Za-z0-9_$.]/.test(text[j]) || text.charCodeAt(j) > 0x7f)) j++;
      const word = text.slice(i, j).toLowerCase();
      let k = j;
      while (k < length && text[k] === ' ') k++;
      if (text[k] === '(' && !KEYWORDS.has(word) && !LOGICAL.has(word)) tokens.push({ type: 'f', text: word });
      else if (LOGICAL.has(word)) tokens.push({ type: 'o', text: word });
      else if (KEYWORDS.has(word)) tokens.push({ type: 'k', text: word });
      else tokens.push({ type: 'b', text: word });
      i = j;
    } else if (char === '(' || char === ')' || char === ',' || char === ';') {
      tokens.push({ type: char, text: char });
      i++;
    } else if (char === '|' && text[i + 1] === '|' || char === '&' && text[i + 1] === '&') {
      tokens.push({ type: 'o', text: char + char });
      i += 2;
    } else if (char === '=' || char === '<' || char === '>' || char === '!') {
      let j = i + 1;
      while (j < length && j - i < 3 && /[=<>!]/.test(text[j])) j++;
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

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/** Returns a short description of the SQL shape found in the tokens, or undefined. */
function findShape(tokens: Token[], quoteBroken: boolean): string | undefined {
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    const next = tokens[i + 1];
    const afterNext = tokens[i + 2];
    if (token.type === 'k' && token.text === 'union') {
      let j = i + 1;
      while (tokens[j] && (tokens[j].text === 'all' || tokens[j].text === 'distinct' || tokens[j].type === '(' || tokens[j].type === 'c')) j++;
      if (tokens[j]?.text === 'select') return 'union select';
    }
    if (token.type === 'k' && token.text === 'select' && selectsSomething(tokens, i)) return 'select from';
    if (token.type === ';' && next?.type === 'k' && STACKED_STATEMENTS.has(next.text)) return `stacked ${next.text}`;
    if (token.type === 'f' && DELAY_FUNCTIONS.has(token.text) && next?.type === '(') return `${token.text}()`;
    if (token.type === 'k' && token.text === 'waitfor' && next?.text === 'delay') return 'waitfor delay';
    if (token.type === 'f' && (token.text === 'extractvalue' || token.text === 'updatexml' || token.text === 'xp_cmdshell' || token.text === 'load_file')) return `${token.text}()`;
    if ((token.type === 's' || token.type === 'n' || token.type === ')') && next?.type === 'o' && next.text !== 'not' && afterNext && OPERAND.has(afterNext.type)) {
      const comparison = tokens[i + 3];
      if (comparison?.type === '=' || (comparison?.type === 'k' && ['like', 'rlike', 'regexp', 'between', 'in', 'is'].includes(comparison.text))) return 'boolean condition';
      if (quoteBroken && (comparison === undefined || comparison.type === 'c' || comparison.type === ';')) return 'boolean condition';
      if (afterNext.type === 'f' || afterNext.type === '(' || afterNext.type === 'v') return 'boolean condition';
    }
    if (quoteBroken && i === 0 && token.type === 's' && next !== undefined && (next.type === 'c' || next.type === ';')) return 'quote then comment';
    if (quoteBroken && i === 0 && token.type === 's' && next?.type === 'k' && (next.text === 'order' || next.text === 'group') && afterNext?.text === 'by') return `${next.text} by`;
    if ((token.type === 'n' || token.type === 's' || token.type === ')') && next?.type === 'k' && (next.text === 'order' || next.text === 'group') && afterNext?.text === 'by' && tokens[i + 3]?.type === 'n' && (tokens[i + 4] === undefined || tokens[i + 4].type === 'c')) return `${next.text} by`;
    if (token.type === 'v' && token.text.startsWith('@@')) return 'system variable';
    if (token.type === 'b' && CATALOG_NAMES.some((name) => token.text.includes(name))) return 'system catalog';
    if (token.type === 'f' && DANGEROUS_FUNCTIONS.has(token.text) && i > 0 && (tokens[i - 1].type === 'o' || tokens[i - 1].type === ',' || tokens[i - 1].type === '=' || tokens[i - 1].type === '(') && quoteBroken) return `${token.text}()`;
  }
  return undefined;
}

/** SELECT followed by a column list and FROM, or by a value and a comment or end: `select 1,2--`. */
function selectsSomething(tokens: Token[], start: number): boolean {
  const first = tokens[start + 1];
  if (!first || first.type === 'k' && first.text !== 'null' && first.text !== 'distinct' && first.text !== 'all') return false;
  let sawExpression = false;
  for (let j = start + 1; j < tokens.length && j < start + 24; j++) {
    const token = tokens[j];
    if (token.type === 'k' && token.text === 'from') return sawExpression;
    if (token.type === ',' || token.type === 'f' || token.type === 'n' || token.type === 'v' || token.type === 's' || token.text === '*' || token.text === 'null') sawExpression = true;
    if (token.type === 'c') return sawExpression;
  }
  return sawExpression && start > 0 && ['(', ';', 'o', 's', 'n', 'k'].includes(tokens[start - 1].type);
}

/** Removes inline comments, so `UN/**‌/ION SEL/**‌/ECT` reads as `UNION SELECT`. */
function withoutInlineComments(value: string): string {
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
      i = start + 3;
      continue;
    }
    const end = value.indexOf('*/', start + 2);
    i = end < 0 ? value.length : end + 2;
  }
  return output;
}

/** Checks one decoded value; returns the shape found, or undefined. */
export function detectSqlInjection(value: string): string | undefined {
  if (value.length < 2) return undefined;
  if (isQuoteProbe(value)) return 'quote after a number';
  const candidates = [value];
  const stripped = withoutInlineComments(value);
  if (stripped !== value) candidates.push(stripped);
  for (const candidate of candidates) {
    const plain = findShape(tokenize(candidate), false);
    if (plain) return plain;
    for (const quote of ["'", '"']) {
      if (candidate.indexOf(quote) < 0) continue;
      const shape = findShape(tokenize(quote + candidate), true);
      if (shape) return shape;
    }
  }
  return undefined;
}

/**
 * A number followed only by quotes or a closing parenthesis (`1'`, `7")`): the first probe of
 * SQL injection scanners, which no form field produces.
 */
function isQuoteProbe(value: string): boolean {
  let i = 0;
  if (value[0] === '-') i++;
  const digitsStart = i;
  while (i < value.length && isDigit(value.charCodeAt(i))) i++;
  if (i === digitsStart || i === value.length) return false;
  for (; i < value.length; i++) {
    if (value[i] !== "'" && value[i] !== '"' && value[i] !== ')' && value[i] !== '`') return false;
  }
  return true;
}

function inspect(values: Inspected[]): string | undefined {
  for (const { location, value } of values) {
    const shape = detectSqlInjection(value);
    if (shape) return `${location}: ${shape}`;
  }
  return undefined;
}

export const sqlInjection: Detector = {
  name: 'sqli',
  description: 'SQL injection in query parameters and path segments, found by tokenizing the decoded values as SQL.',
  detect: (view: EventView) => inspect(view.query) ?? inspect(view.segments),
};
