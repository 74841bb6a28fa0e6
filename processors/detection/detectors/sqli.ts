import { AgentCache, inspectValues, type Detector } from './detector.js';
import type { EventView, Inspected } from '../view.js';
import { rewriteInlineComments, tokenize, type Token } from './sql-tokens.js';

/*
 * SQL injection found on token sequences, not keywords. A value is tokenized as it is and as if
 * it continued a single- or double-quoted string, because an injected value usually first closes
 * the quote the application put around it. Each token list is then checked for shapes that only
 * make sense as SQL. Examples are a condition joined to the query (`' OR 1=1`), UNION SELECT,
 * stacked statements, time delays, casts, calls of functions that read files or the catalog, and
 * a closed quote followed by a comment. Words alone never match, so "union station", "drop
 * shipping" and "O'Reilly" do not.
 */

const STATEMENTS = new Set(['drop', 'delete', 'insert', 'update', 'replace', 'exec', 'execute', 'declare', 'create', 'alter', 'truncate', 'shutdown', 'waitfor', 'set', 'load']);
const OBJECT_KINDS = new Set(['table', 'database', 'schema', 'view', 'procedure', 'trigger', 'function', 'user', 'index']);
/** Functions that delay the response, the core of blind injection. */
const DELAY_FUNCTIONS = new Set(['sleep', 'benchmark', 'pg_sleep', 'pg_sleep_for', 'randomblob', 'dbms_lock.sleep', 'dbms_pipe.receive_message']);
/** Functions that read files, run commands or reach the network from inside the database. */
const DANGEROUS_FUNCTIONS = new Set([
  'load_file', 'lo_import', 'lo_export', 'lo_get', 'lo_from_bytea', 'pg_read_file', 'pg_read_binary_file', 'pg_ls_dir', 'xp_cmdshell',
  'xp_dirtree', 'xp_regread', 'extractvalue', 'updatexml', 'utl_http.request', 'utl_inaddr.get_host_address', 'dbms_xmlgen.getxml',
  'sys_eval', 'sys_exec', 'openrowset', 'opendatasource', 'exp', 'geometrycollection', 'multipoint', 'polygon', 'name_const',
]);
/** Functions common in injections; a call counts where SQL structure surrounds it. */
const SQL_FUNCTIONS = new Set([
  ...DELAY_FUNCTIONS, ...DANGEROUS_FUNCTIONS, 'version', 'database', 'user', 'current_user', 'system_user', 'session_user', 'schema',
  'char', 'chr', 'nchar', 'concat', 'concat_ws', 'group_concat', 'string_agg', 'ascii', 'ord', 'substring', 'substr', 'mid', 'hex',
  'unhex', 'md5', 'sha1', 'upper', 'lower', 'length', 'len', 'count', 'if', 'ifnull', 'isnull', 'nullif', 'coalesce', 'iif', 'floor',
  'rand', 'cast', 'convert', 'json_extract', 'json_keys', 'json_search', 'json_array', 'json_object', 'jsonb_pretty', 'db_name',
  'schema_name', 'table_name', 'column_name', 'left', 'right', 'replace', 'reverse', 'instr', 'locate', 'position', 'starts_with',
  'unistr', 'encode', 'decode', 'overlay', 'to_char', 'quote_ident', 'current_database', 'pg_backend_pid', 'now', 'uuid',
]);
const CATALOG_NAMES = [
  'information_schema', 'sysobjects', 'syscolumns', 'sys.tables', 'sys.objects', 'pg_catalog', 'pg_tables', 'pg_shadow', 'pg_user',
  'sqlite_master', 'sqlite_schema', 'mysql.user', 'all_tables', 'all_tab_columns', 'user_tables', 'dba_users', 'msysobjects',
  'msysaccessobjects', 'master..sysdatabases', 'msdasql', 'sqloledb', 'sysibm.', 'syscat.',
];
const SQL_TYPES = new Set([
  'int', 'integer', 'int2', 'int4', 'int8', 'bigint', 'smallint', 'numeric', 'decimal', 'real', 'double', 'float', 'text', 'varchar',
  'char', 'bool', 'boolean', 'json', 'jsonb', 'bytea', 'date', 'timestamp', 'regclass', 'oid', 'xml', 'inet', 'uuid', 'name',
]);
const COMPARISON_WORDS = new Set(['like', 'rlike', 'regexp', 'glob', 'sounds', 'between', 'in', 'is']);

function at(tokens: Token[], index: number): Token | undefined {
  return tokens[index];
}

/** Skips comment tokens from `index`; returns the index of the next other token. */
function skipComments(tokens: Token[], index: number): number {
  let j = index;
  while (tokens[j]?.type === 'c') j++;
  return j;
}

/** Index just past a parenthesized group starting at `open`, bounded by the token count. */
function closeParen(tokens: Token[], open: number): number {
  let depth = 0;
  for (let j = open; j < tokens.length; j++) {
    if (tokens[j].type === '(') depth++;
    else if (tokens[j].type === ')' && --depth === 0) return j + 1;
  }
  return tokens.length;
}

/** Operands that are SQL values rather than words: numbers, strings, calls, groups, variables, literals. */
function isStrongOperand(token: Token | undefined): boolean {
  if (!token) return false;
  return token.type === 'n' || token.type === 'f' || token.type === '(' || token.type === 'v' || (token.type === 'k' && (token.text === 'true' || token.text === 'false' || token.text === 'null'));
}

function isOperand(token: Token | undefined): boolean {
  return token !== undefined && (isStrongOperand(token) || token.type === 's' || token.type === 'b');
}

/** Reads `operand (operator operand)*` from `index`; returns the index after it, or -1 when no operand starts there. */
function readExpression(tokens: Token[], index: number): number {
  let j = skipComments(tokens, index);
  if (tokens[j]?.type === 'o' && tokens[j].text === 'not') j = skipComments(tokens, j + 1);
  for (let terms = 0; terms < 16; terms++) {
    const token = tokens[j];
    if (!isOperand(token)) return terms === 0 ? -1 : j;
    j = token.type === 'f' ? closeParen(tokens, j + 1) : token.type === '(' ? closeParen(tokens, j) : j + 1;
    while (tokens[j]?.type === 't') j++;
    const operator = tokens[j];
    if (!operator || operator.type !== 'a' || !'+-*/%^|&'.includes(operator.text)) return j;
    j++;
  }
  return j;
}

function isComparison(token: Token | undefined): boolean {
  return token !== undefined && (token.type === '=' || (token.type === 'k' && COMPARISON_WORDS.has(token.text)));
}

/**
 * Reports whether the logical operator at `index` joins a condition: `1 OR 1=1`, `' AND 'a'='a`,
 * `x' OR sleep(5)`. The right side needs a comparison, unless it follows a closed quote and is a
 * value no prose has.
 */
function booleanCondition(tokens: Token[], index: number, quoteEnd: number): boolean {
  const previous = tokens[index - 1];
  if (index > 0 && !(isOperand(previous) || previous.type === ')' || previous.type === 't')) return false;
  const start = skipComments(tokens, index + 1);
  const right = tokens[start]?.type === 'o' && tokens[start].text === 'not' ? tokens[skipComments(tokens, start + 1)] : tokens[start];
  const end = readExpression(tokens, index + 1);
  if (end < 0) return false;
  const afterQuote = quoteEnd > 0 && index === quoteEnd;
  if (isComparison(tokens[end]) || tokens[end]?.text === '?') return isStrongOperand(right) || right?.type === 's' || afterQuote || index === 0;
  if (right?.type === '(' && groupHasComparison(tokens, start)) return true;
  if (!isStrongOperand(right) || right?.type === 'k') return false;
  // `x' OR sleep(5)--`: no comparison, but a value no prose puts after a closed quote, and then the statement ends.
  const follow = tokens[end];
  if (afterQuote) return !follow || follow.type === 'c' || follow.type === ';' || follow.type === 'o' || follow.type === ')';
  // `((1) OR (1 OR 1))--`: values on both sides and a bare comment closing the value.
  const last = tokens[tokens.length - 1];
  return isStrongOperand(previous) || previous?.type === ')' ? last.type === 'c' && isBareComment(last) : false;
}

function groupHasComparison(tokens: Token[], open: number): boolean {
  const close = closeParen(tokens, open);
  for (let j = open + 1; j < close; j++) if (tokens[j].type === '=') return true;
  return false;
}

/** Reports whether a comment has no words in it, as injections leave them: `--`, `-- -`, `#`, `/**‌/`. */
function isBareComment(token: Token): boolean {
  const text = token.text;
  const body = text.startsWith('/*') ? text.slice(2).replace(/\*\/$/, '') : text.startsWith('#') ? text.slice(1) : text.slice(2);
  return !/[a-z]/i.test(body);
}

/** SELECT with a column list and FROM a table, or with a call or variable: `select 1,2 from t`, `select @@version`. */
function selectShape(tokens: Token[], index: number): boolean {
  const first = at(tokens, skipComments(tokens, index + 1));
  if (!first) return false;
  if (first.type === 'v' || (first.type === 'f' && SQL_FUNCTIONS.has(first.text))) return true;
  let strongColumns = false;
  for (let j = index + 1; j < tokens.length && j < index + 32; j++) {
    const token = tokens[j];
    if (token.type === 'k' && token.text === 'from') {
      const table = at(tokens, skipComments(tokens, j + 1));
      if (!table) return strongColumns;
      if (table.type !== 'b' && table.type !== '(' && table.type !== 'k') return false;
      const after = at(tokens, skipComments(tokens, j + 2));
      const clause = !after || after.type === ';' || after.type === ')' || after.type === 'c' || after.type === ',' || (after.type === 'k' && ['limit', 'order', 'group', 'union', 'join', 'having', 'into', 'offset'].includes(after.text)) || (after.text === 'where' && tokens.length > j + 3);
      return strongColumns || clause;
    }
    if (token.type === ')' && strongColumns) return index > 0 && tokens[index - 1].type === '(';
    if (token.type === ',' || token.type === 'f' || token.type === 'n' || token.type === 'v' || token.text === '*' || token.text === 'null') strongColumns = true;
    else if (token.type !== 'b' && token.type !== 'c' && token.type !== 's' && token.type !== 'a' && !(token.type === 'k' && (token.text === 'distinct' || token.text === 'all' || token.text === 'top'))) return false;
  }
  return false;
}

/** Finds a statement after `;` or at the start of the value, in the shape that statement takes. */
function statementShape(tokens: Token[], index: number): string | undefined {
  const keyword = tokens[index];
  if (keyword?.type !== 'k' || !STATEMENTS.has(keyword.text)) return undefined;
  const next = at(tokens, skipComments(tokens, index + 1));
  const afterNext = at(tokens, skipComments(tokens, index + 2));
  const later = tokens.slice(index + 1, index + 16);
  const laterHas = (text: string) => later.some((token) => token.text === text);
  const ends = (token: Token | undefined) => !token || token.type === ';' || token.type === 'c';
  switch (keyword.text) {
    case 'drop': case 'truncate':
      return (next?.type === 'k' && OBJECT_KINDS.has(next.text) && afterNext?.type === 'b') || (next?.type === 'b' && ends(afterNext) && afterNext !== undefined) ? `${keyword.text} statement` : undefined;
    case 'delete': {
      // MySQL allows LOW_PRIORITY, QUICK and IGNORE between DELETE and FROM.
      let from = skipComments(tokens, index + 1);
      while (tokens[from]?.type === 'b' && ['low_priority', 'quick', 'ignore'].includes(tokens[from].text)) from++;
      const table = at(tokens, from + 1);
      return tokens[from]?.text === 'from' && table?.type === 'b' && (ends(at(tokens, from + 2)) || at(tokens, from + 2)?.text === 'where') ? 'delete statement' : undefined;
    }
    case 'insert': case 'replace':
      return (next?.text === 'into' || next?.type === 'b' || next?.type === 'f') && (laterHas('values') || laterHas('select')) ? `${keyword.text} statement` : undefined;
    case 'update':
      return next?.type === 'b' && afterNext?.text === 'set' && at(tokens, index + 4)?.type === '=' ? 'update statement' : undefined;
    case 'exec': case 'execute':
      return next?.text === 'immediate' || (next !== undefined && /^(xp_|sp_|master\.)/.test(next.text)) ? 'exec procedure' : undefined;
    case 'declare':
      return next?.type === 'v' ? 'declare variable' : undefined;
    case 'create':
      return next?.type === 'k' && OBJECT_KINDS.has(next.text) && (laterHas('(') || laterHas('returns') || laterHas('as')) ? 'create statement' : undefined;
    case 'alter':
      return next?.type === 'k' && OBJECT_KINDS.has(next.text) && afterNext?.type === 'b' ? 'alter statement' : undefined;
    case 'waitfor':
      return next?.text === 'delay' || next?.text === 'time' ? 'waitfor delay' : undefined;
    case 'shutdown':
      return ends(next) || next?.text === 'with' ? 'shutdown' : undefined;
    case 'set':
      return next?.type === 'v' || (next?.type === 'b' && afterNext?.type === '=' && index > 0) ? 'set statement' : undefined;
    case 'load':
      return next?.type === 'b' && (next.text === 'data' || next.text === 'xml') ? 'load statement' : undefined;
    default:
      return undefined;
  }
}

/** Reports whether a quoted value has at most eight characters and no spaces, quotes not counted. */
function isTinyString(token: Token): boolean {
  return token.text.length <= 10 && !/\s/.test(token.text);
}

/** Shapes that start right after a quote the value closed (`quoteBroken`, token 0 is that string). */
function quoteShape(tokens: Token[]): string | undefined {
  const quoted = tokens[0];
  const next = tokens[1];
  if (quoted?.type !== 's' || !next) return undefined;
  const afterNext = tokens[2];
  // `admin'--`, `1' #`: the quoted part is one word and the comment is bare, as an injection leaves it.
  if (next.type === 'c' && tokens.length === 2 && !/\s/.test(quoted.text.slice(1, -1)) && isBareComment(next)) return 'quote then comment';
  if (next.type === ';' && afterNext?.type === 'c' && tokens.length === 3 && isTinyString(quoted)) return 'quote, semicolon, comment';
  // `A' > 'B`, `' != '`, `'<='`: the whole value is a comparison between two tiny quoted values.
  if (tokens.length <= 5 && tokens.every((token) => token.type !== 's' || isTinyString(token))) {
    let j = 1;
    if (tokens[j].type === 'o' && tokens[j].text === 'not') j++;
    if (tokens[j]?.text === 'sounds' && tokens[j + 1]?.text === 'like') j++;
    const operator = tokens[j];
    const operand = tokens[j + 1];
    const comparing = operator?.type === '=' || (operator?.type === 'k' && COMPARISON_WORDS.has(operator.text)) || (operator?.type === 'o' && (operator.text === '||' || operator.text === '&&'));
    if (comparing && (operand?.type === 's' || operand?.type === 'n')) return 'quoted comparison';
  }
  if (next.type === ';' && statementShape(tokens, skipComments(tokens, 2))) return `stacked ${tokens[skipComments(tokens, 2)].text}`;
  if (next.type === 'k' && (next.text === 'order' || next.text === 'group') && afterNext?.text === 'by') return `${next.text} by`;
  return undefined;
}

/** Returns a short description of the SQL shape found in the tokens, or undefined. */
export function findShape(tokens: Token[], quoteBroken: boolean): string | undefined {
  const quoteEnd = quoteBroken ? readExpression(tokens, 0) : -1;
  if (quoteBroken) {
    const quoted = quoteShape(tokens);
    if (quoted) return quoted;
  } else if (tokens.length === 2 && tokens[0].type === 'n' && tokens[1].type === 'c' && !/[a-z]/i.test(tokens[1].text)) {
    return 'number then comment';
  } else if (tokens.length === 2 && tokens[0].type === 'f' && tokens[1].type === '(' && SQL_FUNCTIONS.has(tokens[0].text)) {
    return `${tokens[0].text}( probe`;
  }
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    const next = tokens[i + 1];
    switch (token.type) {
      case 'k': {
        const shape = keywordShape(tokens, i, quoteBroken);
        if (shape) return shape;
        break;
      }
      case 'o':
        if (token.text !== 'not' && booleanCondition(tokens, i, quoteEnd)) return 'boolean condition';
        if ((token.text === '||' || token.text === '&&') && i === 0 && next?.type === 'f' && SQL_FUNCTIONS.has(next.text)) return 'concatenated call';
        break;
      case ';':
        if (next) {
          const shape = statementShape(tokens, skipComments(tokens, i + 1));
          if (shape) return `stacked ${shape}`;
        }
        break;
      case 'f':
        if (DELAY_FUNCTIONS.has(token.text) && isOperand(at(tokens, skipComments(tokens, i + 2)))) return `${token.text}()`;
        if (DANGEROUS_FUNCTIONS.has(token.text) && (i === 0 || tokens[i - 1].type !== 'b')) return `${token.text}()`;
        if (token.text === 'if' && isOperand(at(tokens, i + 2)) && at(tokens, i + 3)?.type === '=') return 'if() condition';
        break;
      case 't':
        if (SQL_TYPES.has(token.text) && i > 0 && [')', 's', 'b', 'n', 't'].includes(tokens[i - 1].type)) return `::${token.text} cast`;
        break;
      case 'v':
        if (token.text.startsWith('@@')) return 'system variable';
        break;
      case ',':
        if (i === 0 && next?.text === 'null' && tokens[i + 2]?.type === ',' && tokens[i + 3]?.text === 'null') return 'null column list';
        break;
      case 'b':
        if (CATALOG_NAMES.some((name) => token.text.includes(name))) return 'system catalog';
        break;
      case '=':
        if (token.text === '<=>' && isOperand(tokens[i - 1]) && isOperand(next)) return 'null-safe comparison';
        break;
      case 'c':
        if (token.text.startsWith('/*+') && i > 0) return 'optimizer hint';
        break;
      default:
        break;
    }
  }
  return undefined;
}

function keywordShape(tokens: Token[], i: number, quoteBroken: boolean): string | undefined {
  const token = tokens[i];
  const next = at(tokens, skipComments(tokens, i + 1));
  switch (token.text) {
    case 'union': case 'except': case 'intersect': {
      let j = i + 1;
      while (tokens[j] && (tokens[j].text === 'all' || tokens[j].text === 'distinct' || tokens[j].type === '(' || tokens[j].type === 'c')) j++;
      if (tokens[j]?.text === 'select') return `${token.text} select`;
      const previous = tokens[i - 1];
      if (token.text === 'union' && previous && (previous.type === 'c' || previous.type === 'n' || previous.type === ')') && (!tokens[i + 1] || tokens[i + 1].type === 'c')) return 'union after a comment';
      return undefined;
    }
    case 'select':
      return selectShape(tokens, i) ? 'select statement' : undefined;
    case 'case': {
      const when = tokens.slice(i + 1, i + 8).findIndex((candidate) => candidate.text === 'when');
      return when >= 0 && tokens.slice(i + when + 2, i + when + 12).some((candidate) => candidate.text === 'then') ? 'case expression' : undefined;
    }
    case 'having':
      return readExpression(tokens, i + 1) > 0 && isComparison(tokens[readExpression(tokens, i + 1)]) ? 'having condition' : undefined;
    case 'order': case 'group': {
      const previous = tokens[i - 1];
      if (next?.text !== 'by' || !previous || !['n', 's', ')'].includes(previous.type)) return undefined;
      const column = at(tokens, i + 2);
      const after = at(tokens, i + 3);
      return column?.type === 'n' && (!after || after.type === 'c' || after.type === ',' || (after.type === 'k' && after.text === 'having')) ? `${token.text} by` : undefined;
    }
    case 'waitfor':
      return next?.text === 'delay' || next?.text === 'time' ? 'waitfor delay' : undefined;
    default:
      if (i === 0 && !quoteBroken && STATEMENTS.has(token.text)) return statementShape(tokens, i);
      return undefined;
  }
}

/** Characters without which no shape above can appear, checked before tokenizing. */
const SIGNIFICANT = new Set([..."'\"`;()=<>|&-#/*@:,!"]);
const SHAPE_WORDS = ['select', 'union', 'drop', 'delete', 'insert', 'update', 'case', 'exec', 'create', 'alter', 'having', 'order', 'group', 'waitfor', 'information_schema', 'pg_', 'sys', 'msdasql', 'shutdown', 'truncate', 'declare'];

function worthTokenizing(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (SIGNIFICANT.has(value[i])) return true;
  return SHAPE_WORDS.some((word) => value.indexOf(word) >= 0);
}

/**
 * Reports whether the value is a number followed only by quotes or a closing parenthesis (`1'`,
 * `7")`), the first probe of SQL injection scanners, which no form field produces.
 */
function isQuoteProbe(value: string): boolean {
  let i = value[0] === '-' ? 1 : 0;
  const digitsStart = i;
  while (i < value.length && value.charCodeAt(i) >= 0x30 && value.charCodeAt(i) <= 0x39) i++;
  if (i === digitsStart || i === value.length) return false;
  for (; i < value.length; i++) {
    if (value[i] !== "'" && value[i] !== '"' && value[i] !== ')') return false;
  }
  return true;
}

/** Checks one decoded, lower-cased value; returns the shape found, or undefined. */
export function detectSqlInjection(value: string): string | undefined {
  if (value.length < 2 || !worthTokenizing(value)) return undefined;
  if (isQuoteProbe(value)) return 'quote after a number';
  const candidates = [value];
  if (value.indexOf('/*') >= 0) candidates.push(rewriteInlineComments(value, true), rewriteInlineComments(value, false));
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

const agents = new AgentCache();

function inspect(values: Inspected[]): string | undefined {
  return inspectValues(values, detectSqlInjection, agents);
}

/** Path segments as they are and, where they hold `+`, with `+` read as a space as some frameworks do. */
function pathValues(segments: Inspected[]): Inspected[] {
  const values = [...segments];
  for (const segment of segments) if (segment.value.indexOf('+') >= 0) values.push({ location: segment.location, value: segment.value.replaceAll('+', ' ') });
  return values;
}

export const sqlInjection: Detector = {
  name: 'sqli',
  description: 'SQL injection in query parameters, path segments, cookies and headers, found by tokenizing the decoded values as SQL.',
  detect: (view: EventView) => inspect(view.inputs) ?? inspect(pathValues(view.segments)),
};
