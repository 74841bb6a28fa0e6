import { inspectValues, repeatSlot, type Detector, type ValueCheck } from './detector.js';
import { inspected, type EventView, type Inspected } from '../view.js';
import { AMPERSAND, ANGLE, AT, charClasses, COLON, COMMA, DASH, DOT, EQUALS, EXCLAMATION, HASH, LETTER, PAREN, PIPE, PLUS, QUOTE, SEMICOLON, SLASH, WILDCARD, WORD } from '../chars.js';
import { NeedleSet } from './needles.js';
import { isSpace, rewriteInlineComments, tokenize, type Token } from './sql-tokens.js';

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
  // `select pg_sleep`: a delay or file function named without its parentheses.
  if (first.type === 'b' && (DELAY_FUNCTIONS.has(first.text) || (DANGEROUS_FUNCTIONS.has(first.text) && first.text.includes('_')))) return true;
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

/**
 * Finds a statement after `;` or at the start of the value, in the shape that statement takes.
 * `stacked` marks a statement after `;`, where a shorter shape is enough: no prose puts `;drop x`
 * or `;print 'x'` in a value.
 */
function statementShape(tokens: Token[], index: number, stacked = false): string | undefined {
  const keyword = tokens[index];
  if (stacked && keyword?.type === 'b' && keyword.text === 'print' && isOperand(tokens[index + 1])) return 'print statement';
  if (keyword?.type !== 'k' || !STATEMENTS.has(keyword.text)) return undefined;
  const next = at(tokens, skipComments(tokens, index + 1));
  const afterNext = at(tokens, skipComments(tokens, index + 2));
  const later = tokens.slice(index + 1, index + 16);
  const laterHas = (text: string) => later.some((token) => token.text === text);
  const ends = (token: Token | undefined) => !token || token.type === ';' || token.type === 'c';
  switch (keyword.text) {
    case 'drop': case 'truncate': {
      if (next?.type === 'k' && OBJECT_KINDS.has(next.text) && afterNext?.type === 'b') return `${keyword.text} statement`;
      if (next?.type === 'b') return ends(afterNext) && (afterNext !== undefined || stacked) ? `${keyword.text} statement` : undefined;
      // SQL Server quotes identifiers in brackets: `;truncate [users]`.
      if (!stacked || next?.text !== '[' || afterNext?.type !== 'b') return undefined;
      let after = at(tokens, index + 3);
      if (after?.text === ']') after = at(tokens, index + 4);
      return ends(after) ? `${keyword.text} statement` : undefined;
    }
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
  if (next.type === ';' && statementShape(tokens, skipComments(tokens, 2), true)) return `stacked ${tokens[skipComments(tokens, 2)].text}`;
  if (next.type === 'k' && (next.text === 'order' || next.text === 'group') && afterNext?.text === 'by') return `${next.text} by`;
  return undefined;
}

/**
 * Reports whether the tokens end in a comparison of two numbers that holds, after the start of the
 * value or a separator: `1=1`, `b,1=1`, `11!=1`. Such tautologies make a condition always true;
 * form values do not compare numbers.
 */
function numericTautology(tokens: Token[]): boolean {
  let end = tokens.length;
  while (end > 0 && tokens[end - 1].type === 'c') end--;
  if (end < 3) return false;
  const [left, operator, right] = [tokens[end - 3], tokens[end - 2], tokens[end - 1]];
  if (left.type !== 'n' || operator.type !== '=' || right.type !== 'n') return false;
  const before = tokens[end - 4];
  if (before && before.type !== ',' && before.type !== ';' && before.type !== ')' && before.type !== 'o') return false;
  const a = Number(left.text);
  const b = Number(right.text);
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  switch (operator.text) {
    case '=': case '==': case '<=>': return a === b;
    case '!=': case '<>': return a !== b;
    default: return false;
  }
}

/** Finds `union`, `except` or `intersect` followed by a row constructor: `except values(1,2)`. */
function setOperationValues(tokens: Token[], index: number): boolean {
  const next = tokens[skipComments(tokens, index + 1)];
  return next?.text === 'values' && tokens[skipComments(tokens, index + 2)]?.type === '(' && isOperand(tokens[skipComments(tokens, index + 3)]);
}

/** Information-schema column names that a SELECT reads to list tables and columns. */
const CATALOG_COLUMNS = ['table_name', 'column_name', 'schema_name', 'table_schema'];

/** Finds a catalog column among the next tokens of a SELECT: `select $.`` 1.e.table_name`. */
function selectsCatalogColumn(tokens: Token[], index: number): boolean {
  for (let j = index + 1; j < tokens.length && j < index + 16; j++) {
    const token = tokens[j];
    if (token.type === 'k' && token.text === 'from') return false;
    if ((token.type === 'b' || token.type === 'f') && CATALOG_COLUMNS.some((column) => token.text === column || token.text.endsWith(`.${column}`))) return true;
  }
  return false;
}

/** Names that end a value as `name(`, as SQL injection scanners probe: `char(`, `selectchar(`, `distinct(`. */
function isProbeCall(token: Token): boolean {
  if (token.type === 'k') return token.text === 'distinct' || token.text === 'select' || token.text === 'exists';
  if (token.type !== 'f') return false;
  if (SQL_FUNCTIONS.has(token.text)) return true;
  const glued = token.text.startsWith('select') ? token.text.slice(6) : token.text.startsWith('union') ? token.text.slice(5) : '';
  return SQL_FUNCTIONS.has(glued);
}

/** `'{"a":2}' < '$.c' = 7`: two comparisons chained over literals, which only a query evaluates. */
function isChainedComparison(tokens: Token[]): boolean {
  if (tokens.length !== 5) return false;
  const literal = (token: Token) => token.type === 's' || token.type === 'n';
  return literal(tokens[0]) && tokens[1].type === '=' && literal(tokens[2]) && tokens[3].type === '=' && literal(tokens[4]) && (tokens[0].type === 's' || tokens[2].type === 's');
}

/**
 * Returns a short description of the SQL shape found in the tokens, or undefined. `quoteBroken`
 * marks tokens of the value read as continuing a quoted string, and `quoteThenSpace` is true when
 * the value began with a quote and a space.
 */
export function findShape(tokens: Token[], quoteBroken: boolean, quoteThenSpace = false): string | undefined {
  const quoteEnd = quoteBroken ? readExpression(tokens, 0) : -1;
  if (quoteBroken) {
    const quoted = quoteShape(tokens);
    if (quoted) return quoted;
  } else if (tokens.length === 2 && tokens[0].type === 'n' && tokens[1].type === 'c' && !/[a-z]/i.test(tokens[1].text)) {
    return 'number then comment';
  } else if (tokens.length === 2 && tokens[1].type === '(' && isProbeCall(tokens[0])) {
    return `${tokens[0].text}( probe`;
  } else if (numericTautology(tokens)) {
    return 'numeric tautology';
  } else if (tokens[0]?.type === ')' && (tokens[1]?.type === 'o' || isComparison(tokens[1]))) {
    return 'closed parenthesis then condition';
  } else if (tokens.length <= 3 && tokens[0]?.type === 'o' && (tokens[0].text === 'or' || tokens[0].text === 'xor') && tokens[1]?.type === 'n' && (tokens.length === 2 || tokens[2].type === 'a')) {
    return `leading ${tokens[0].text}`;
  } else if (isChainedComparison(tokens)) {
    return 'chained comparison';
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
          const shape = statementShape(tokens, skipComments(tokens, i + 1), true);
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
  if (quoteBroken && quoteThenSpace) return quoteThenLogical(tokens);
  return undefined;
}

/**
 * `' or abc!`: a value that begins by closing a quote, then a space and a logical operator with
 * an operand. Checked after every other shape, which describe such values more precisely.
 */
function quoteThenLogical(tokens: Token[]): string | undefined {
  const [quoted, operator, operand] = tokens;
  if (quoted?.text !== "''" || operator?.type !== 'o' || operator.text === 'not' || !operand) return undefined;
  return operand.type === ';' || operand.type === 'c' ? undefined : `quote then ${operator.text}`;
}

function keywordShape(tokens: Token[], i: number, quoteBroken: boolean): string | undefined {
  const token = tokens[i];
  const next = at(tokens, skipComments(tokens, i + 1));
  switch (token.text) {
    case 'union': case 'except': case 'intersect': {
      let j = i + 1;
      while (tokens[j] && (tokens[j].text === 'all' || tokens[j].text === 'distinct' || tokens[j].type === '(' || tokens[j].type === 'c')) j++;
      if (tokens[j]?.text === 'select') return `${token.text} select`;
      if (setOperationValues(tokens, i)) return `${token.text} values`;
      const previous = tokens[i - 1];
      // `1 union--`, `2 union all`: a number, then UNION with nothing after it but ALL or a comment.
      const tail = tokens[i + 1]?.text === 'all' || tokens[i + 1]?.text === 'distinct' ? i + 2 : i + 1;
      if (token.text === 'union' && previous && (previous.type === 'c' || previous.type === 'n' || previous.type === ')') && (!tokens[tail] || tokens[tail].type === 'c')) return 'union after a comment';
      return undefined;
    }
    case 'select':
      return selectShape(tokens, i) || selectsCatalogColumn(tokens, i) ? 'select statement' : undefined;
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

/**
 * Characters that give SQL structure on their own: quotes, statement and condition syntax,
 * comments (`#`), variables, and `!`. A value without them and without `--`, `::`, `/*` or
 * `,null` can only hold a shape through its words, so it is tokenized only when it has one of
 * SHAPE_WORDS.
 */
const STRUCTURE = QUOTE | SEMICOLON | PAREN | EQUALS | ANGLE | PIPE | AMPERSAND | HASH | AT | EXCLAMATION;
const SHAPE_WORDS = new NeedleSet(['select', 'union', 'drop', 'delete', 'insert', 'update', 'case', 'exec', 'create', 'alter', 'having', 'order', 'group', 'waitfor', 'information_schema', 'pg_', 'sys', 'msdasql', 'shutdown', 'truncate', 'declare']);

/** Catalog names a value of letters, digits and underscores alone may hold (`information_schema`); the rest have dots. */
const CATALOG_WORDS = new NeedleSet(CATALOG_NAMES.filter((name) => /^[a-z_]+$/.test(name)));

function worthTokenizing(value: string, classes: number): boolean {
  if ((classes & STRUCTURE) !== 0) return true;
  // Without spaces or other separators the value is one word, or a number and a word, and of all
  // shapes only a catalog name, a lone SHUTDOWN and `1union` fit so few tokens.
  if ((classes & ~WORD) === 0) return value === 'shutdown' || value.endsWith('union') || CATALOG_WORDS.first(value) !== undefined;
  if ((classes & (DASH | COLON | WILDCARD | COMMA)) !== 0) {
    if (value.indexOf('--') >= 0 || value.indexOf('::') >= 0 || value.indexOf('/*') >= 0) return true;
    if ((classes & COMMA) !== 0 && value.indexOf('null') >= 0) return true;
  }
  if (value.startsWith('or ') || value.startsWith('xor ')) return true;
  return (classes & LETTER) !== 0 && SHAPE_WORDS.first(value) !== undefined;
}

/**
 * Reports whether the value is a number followed only by quotes or a closing parenthesis (`1'`,
 * `7")`), the first probe of SQL injection scanners, which no form field produces.
 */
function isQuoteProbe(value: string): boolean {
  // `';`, `")`: a quote closed at once, then the statement or group ended.
  if (value.length <= 3 && (value[0] === "'" || value[0] === '"') && /^.\)?;?$/.test(value) && value.length > 1) return true;
  let i = value[0] === '-' ? 1 : 0;
  const digitsStart = i;
  while (i < value.length && value.charCodeAt(i) >= 0x30 && value.charCodeAt(i) <= 0x39) i++;
  if (i === digitsStart || i === value.length) return false;
  for (; i < value.length; i++) {
    if (value[i] !== "'" && value[i] !== '"' && value[i] !== ')') return false;
  }
  return true;
}

/**
 * Finds text that only SQL injection writes, before any tokenizing: MySQL's executable comments
 * (`/*!50000select`), UNION SELECT with the spaces taken out, and the floating-point constant that
 * hangs Java and PHP number parsers (CVE-2010-4476), which injection scanners send.
 */
function sqlMarker(value: string, classes: number): string | undefined {
  if ((classes & WILDCARD) !== 0) {
    const comment = value.indexOf('/*!');
    if (comment >= 0 && /[a-z0-9]/.test(value[comment + 3] ?? '')) return 'mysql executable comment';
  }
  if ((classes & LETTER) !== 0 && (value.indexOf('unionselect') >= 0 || value.indexOf('unionallselect') >= 0)) return 'union select without spaces';
  if ((classes & DOT) !== 0 && value.indexOf('2.225073858507201') >= 0) return 'floating-point parser denial of service constant';
  return undefined;
}

/** Checks one decoded, lower-cased value; returns the shape found, or undefined. `classes` are the value's character classes. */
export function detectSqlInjection(value: string, classes = charClasses(value)): string | undefined {
  if (value.length < 2) return undefined;
  const marker = sqlMarker(value, classes);
  if (marker) return marker;
  if (!worthTokenizing(value, classes)) return undefined;
  if (isQuoteProbe(value)) return value[0] === "'" || value[0] === '"' ? 'quote probe' : 'quote after a number';
  const quoteThenSpace = (value[0] === "'" || value[0] === '"') && isSpace(value[1] ?? '');
  const candidates = [value];
  if (value.indexOf('/*') >= 0) candidates.push(rewriteInlineComments(value, true), rewriteInlineComments(value, false));
  for (const candidate of candidates) {
    const plain = findShape(tokenize(candidate), false);
    if (plain) return plain;
    for (const quote of ["'", '"']) {
      if (candidate.indexOf(quote) < 0) continue;
      const shape = findShape(tokenize(quote + candidate), true, quoteThenSpace);
      if (shape) return shape;
    }
  }
  return undefined;
}

const slot = repeatSlot();

const check: ValueCheck = (value, _location, classes) => detectSqlInjection(value, classes);

function inspect(values: Inspected[]): string | undefined {
  return inspectValues(values, check, slot);
}

/**
 * Reports whether any segment of a path could hold SQL: pass `sqlMarker` or `worthTokenizing`.
 * A path of words, dots, dashes and slashes alone, such as `/api/orders/1234` or
 * `/img/logo.png`, needs a word those checks look for, `--`, or a `+` read as a space.
 */
function segmentsMayHoldSql(path: string): boolean {
  const classes = charClasses(path);
  if ((classes & ~(WORD | SLASH | DOT | DASH)) !== 0) return true;
  if (path.indexOf('shutdown') >= 0 || path.indexOf('union') >= 0 || CATALOG_WORDS.first(path) !== undefined) return true;
  // Segments of words alone need one of the words above; dots and dashes let the rest of the checks in.
  if ((classes & (DOT | DASH)) === 0) return false;
  return path.indexOf('--') >= 0 || path.indexOf('2.225073858507201') >= 0 || SHAPE_WORDS.first(path) !== undefined;
}

/** Path segments as they are and, where they hold `+`, with `+` read as a space as some frameworks do. */
function pathValues(segments: Inspected[]): Inspected[] {
  let values = segments;
  for (const segment of segments) {
    if ((segment.classes & PLUS) === 0) continue;
    if (values === segments) values = [...segments];
    values.push(inspected(segment.location, segment.value.replaceAll('+', ' ')));
  }
  return values;
}

export const sqlInjection: Detector = {
  name: 'sqli',
  description: 'SQL injection in query parameters, path segments, cookies and headers, found by tokenizing the decoded values as SQL.',
  // Comments may hold slashes (`sleep(/*x*/12)`), which split segments, so such a path is also judged whole.
  detect: (view: EventView) => inspect(view.inputs) ?? (segmentsMayHoldSql(view.path) ? inspect(pathValues(view.segments)) : undefined) ?? (view.path.indexOf('/*') >= 0 ? inspect(view.pathAsInput) : undefined),
};
