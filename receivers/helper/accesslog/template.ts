/**
 * A log-format template: literal text and named variables in the order a server writes them. The
 * nginx `log_format` and Apache `LogFormat` readers both compile into one, so they share the line
 * splitter below.
 */
export type Token = { kind: 'literal'; text: string } | { kind: 'variable'; name: string };

export type FieldMap = Map<string, string>;
export type LineSplitter = (line: string) => FieldMap | undefined;

/**
 * Variables whose value must look a certain way. When the text after a delimiter does not fit,
 * the field before it is extended to the next delimiter, so a quote inside a request line does not
 * end the request early. The checks run on at most 32 characters.
 */
const VALUE_SHAPES: Record<string, RegExp> = {
  status: /^(?:\d{3}|-)$/,
  body_bytes_sent: /^(?:\d+|-)$/,
  bytes_sent: /^(?:\d+|-)$/,
};

/** How many later delimiters a field may try when the first split gives a malformed next field. */
const MAX_SPLIT_ATTEMPTS = 16;

/** Rejects templates the splitter cannot read: two variables with no text between them. */
export function checkTemplate(tokens: Token[], describe: (name: string) => string): void {
  if (!tokens.some((token) => token.kind === 'variable')) throw new Error('the format has no variables');
  for (let i = 1; i < tokens.length; i++) {
    const previous = tokens[i - 1];
    const current = tokens[i];
    if (current.kind === 'variable' && previous.kind === 'variable') {
      throw new Error(`variables ${describe(previous.name)} and ${describe(current.name)} have no text between them, so the line cannot be split`);
    }
  }
}

/**
 * Compiles a template into a line splitter. The splitter scans the line once per field, with no
 * regular expression on the line itself, so its cost stays linear in the line length whatever an
 * attacker puts into the request or user agent.
 *
 * A field ends at the next occurrence of the literal text that follows it in the template,
 * skipping occurrences escaped with a backslash. The last field ends at the template's final
 * literal counted from the line's end, so a stray quote in a user agent does not cut it short.
 */
export function compileTemplate(tokens: Token[]): LineSplitter {
  const lastVariable = tokens.map((token) => token.kind).lastIndexOf('variable');
  return (line) => {
    const fields: FieldMap = new Map();
    let position = 0;
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i];
      if (token.kind === 'literal') {
        if (!line.startsWith(token.text, position)) return undefined;
        position += token.text.length;
        continue;
      }
      const next = tokens[i + 1] as { kind: 'literal'; text: string } | undefined;
      const afterFollowing = tokens[i + 3];
      const stop = afterFollowing?.kind === 'literal' ? afterFollowing.text[0] : ' ';
      const end = fieldEnd(line, position, next?.text, i === lastVariable, tokens[i + 2], stop);
      if (end < 0) return undefined;
      fields.set(token.name, line.slice(position, end));
      position = end;
    }
    return position === line.length ? fields : undefined;
  };
}

function fieldEnd(line: string, start: number, delimiter: string | undefined, isLastField: boolean, following: Token | undefined, stop: string): number {
  if (delimiter === undefined) return line.length;
  if (isLastField) {
    const end = line.length - delimiter.length;
    return end >= start && line.endsWith(delimiter) ? end : -1;
  }
  const shape = following?.kind === 'variable' ? VALUE_SHAPES[following.name] : undefined;
  let from = start;
  for (let attempt = 0; attempt < MAX_SPLIT_ATTEMPTS; attempt++) {
    const end = indexOfUnescaped(line, delimiter, from);
    if (end < 0) return -1;
    if (!shape || shape.test(peekField(line, end + delimiter.length, stop))) return end;
    from = end + 1;
  }
  return -1;
}

/** Finds `delimiter` at or after `from`, skipping occurrences escaped by an odd number of backslashes. */
export function indexOfUnescaped(line: string, delimiter: string, from: number): number {
  let index = line.indexOf(delimiter, from);
  while (index > 0) {
    let backslashes = 0;
    for (let j = index - 1; j >= from && line.charCodeAt(j) === 0x5c; j--) backslashes++;
    if (backslashes % 2 === 0) return index;
    index = line.indexOf(delimiter, index + 1);
  }
  return index;
}

/**
 * Returns the text from `start` to `stop` or the end of the line, at most 32 characters, for a
 * shape check. `stop` is the first character of the literal after the peeked field.
 */
function peekField(line: string, start: number, stop: string): string {
  const limit = Math.min(line.length, start + 32);
  let end = start;
  while (end < limit && line[end] !== stop) end++;
  return line.slice(start, end);
}
