import { checkTemplate, compileTemplate, type LineSplitter, type Token } from './template.js';

/** The LogFormat nicknames of Apache's default httpd.conf, usable as `log_format` values. */
export const APACHE_FORMATS: Record<string, string> = {
  common: '%h %l %u %t "%r" %>s %b',
  combined: '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"',
  vhost_combined: '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"',
  combinedio: '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %I %O',
};

/** One-letter directives, mapped to the variable names the field mapping reads (nginx's where one exists). */
const DIRECTIVES: Record<string, string> = {
  a: 'remote_addr',
  A: 'server_addr',
  b: 'body_bytes_sent',
  B: 'body_bytes_sent',
  D: 'request_time_us',
  f: 'filename',
  h: 'remote_addr',
  H: 'server_protocol',
  k: 'keepalive_requests',
  l: 'ident',
  L: 'request_id',
  m: 'request_method',
  p: 'server_port',
  P: 'pid',
  q: 'args',
  r: 'request',
  R: 'handler',
  s: 'status',
  T: 'request_time',
  u: 'remote_user',
  U: 'uri',
  v: 'server_name',
  V: 'host',
  X: 'connection_status',
  I: 'request_length',
  O: 'bytes_sent',
  S: 'bytes_transferred',
};

/** `%{unit}T`: the request time in that unit. */
const TIME_UNITS: Record<string, string> = { s: 'request_time', ms: 'request_time_ms', us: 'request_time_us' };
/** `%{format}t` forms that print the epoch instead of a date. */
const EPOCH_TIMES: Record<string, string> = { sec: 'msec', msec: 'time_epoch_ms' };

function headerVariable(prefix: string, header: string): string {
  return `${prefix}${header.toLowerCase().replace(/-/g, '_')}`;
}

/** Returns the variable of a `%{argument}X` directive. */
function argumentVariable(letter: string, argument: string): string {
  switch (letter) {
    case 'i': return headerVariable('http_', argument);
    case 'o': return headerVariable('sent_http_', argument);
    case 'C': return headerVariable('cookie_', argument);
    case 'e': return headerVariable('env_', argument);
    case 'n': return headerVariable('note_', argument);
    case 'a': return argument === 'c' ? 'connection_address' : 'remote_addr';
    case 'p': return argument === 'remote' ? 'remote_port' : 'server_port';
    case 'T': return TIME_UNITS[argument] ?? 'request_time';
    case 't': return EPOCH_TIMES[argument] ?? 'time_any';
    default: return `${letter}_${argument}`.toLowerCase();
  }
}

/** Reads Apache's escapes in a LogFormat string as written in httpd.conf: `\"`, `\t`, `\n`, `\\`. */
function unquoteConfigString(format: string): string {
  const escapes: Record<string, string> = { t: '\t', n: '\n', '"': '"', '\\': '\\' };
  return format.replace(/\\(["tn\\])/g, (_, char: string) => escapes[char]);
}

/**
 * Reads an Apache `LogFormat` string (or a nickname such as `combined`) into template tokens.
 * Status conditions (`%400,501{User-Agent}i`) and the `<`/`>` modifiers are accepted and ignored.
 * `%t` becomes `[` time `]`, as Apache prints it.
 */
export function apacheTokens(format: string): Token[] {
  const text = unquoteConfigString(APACHE_FORMATS[format] ?? format);
  const tokens: Token[] = [];
  let literal = '';
  const pushLiteral = (value: string) => { literal += value; };
  const pushVariable = (name: string) => {
    if (literal) tokens.push({ kind: 'literal', text: literal });
    literal = '';
    tokens.push({ kind: 'variable', name });
  };
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '%') {
      pushLiteral(text[i]);
      continue;
    }
    if (text[i + 1] === '%') {
      pushLiteral('%');
      i++;
      continue;
    }
    let j = i + 1;
    while (j < text.length && /[!<>0-9,]/.test(text[j])) j++;
    let argument: string | undefined;
    if (text[j] === '{') {
      const close = text.indexOf('}', j);
      if (close < 0) throw new Error(`unclosed "%{" at position ${i}`);
      argument = text.slice(j + 1, close);
      j = close + 1;
    }
    const letter = text[j];
    if (letter === undefined) throw new Error(`the format ends inside a directive at position ${i}`);
    if (letter === 't' && argument === undefined) {
      pushLiteral('[');
      pushVariable('time_local');
      pushLiteral(']');
    } else if (argument !== undefined) {
      pushVariable(argumentVariable(letter, argument));
    } else {
      const name = DIRECTIVES[letter];
      if (!name) throw new Error(`unknown directive "%${letter}" at position ${i}`);
      pushVariable(name);
    }
    i = j;
  }
  if (literal) tokens.push({ kind: 'literal', text: literal });
  return tokens;
}

/** Compiles an Apache `LogFormat` string into a line splitter; throws when the format cannot be split. */
export function compileApacheFormat(format: string): LineSplitter {
  const tokens = apacheTokens(format);
  checkTemplate(tokens, (name) => name);
  return compileTemplate(tokens);
}
