/**
 * Parsers for the wire formats, written from their specifications for the tests alone, so the
 * tests check the exporters against the documents and not against the exporters' own code.
 */

export interface Rfc5424 {
  priority: number;
  version: number;
  timestamp: string;
  hostname: string;
  appName: string;
  procId: string;
  msgId: string;
  /** SD-ID to its parameters, unescaped. */
  structuredData: Map<string, Map<string, string>>;
  msg: string;
}

/** Parses `<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]` (RFC 5424 section 6). */
export function parseRfc5424(text: string): Rfc5424 {
  const header = /^<(\d{1,3})>(\d) (\S+) (\S+) (\S+) (\S+) (\S+) /.exec(text);
  if (!header) throw new Error(`not an RFC 5424 header: ${text.slice(0, 80)}`);
  let position = header[0].length;
  const structuredData = new Map<string, Map<string, string>>();
  if (text[position] === '-') {
    position++;
  } else {
    while (text[position] === '[') {
      position++;
      const idEnd = text.indexOf(' ', position);
      const closeEnd = text.indexOf(']', position);
      const idStop = idEnd >= 0 && idEnd < closeEnd ? idEnd : closeEnd;
      const id = text.slice(position, idStop);
      const params = new Map<string, string>();
      position = idStop;
      while (text[position] === ' ') {
        position++;
        const equals = text.indexOf('=', position);
        const name = text.slice(position, equals);
        if (text[equals + 1] !== '"') throw new Error(`SD-PARAM ${name} value is not quoted`);
        position = equals + 2;
        let value = '';
        for (;;) {
          const character = text[position];
          if (character === undefined) throw new Error('unterminated SD-PARAM value');
          if (character === '\\' && ['"', '\\', ']'].includes(text[position + 1])) {
            value += text[position + 1];
            position += 2;
            continue;
          }
          if (character === '"') break;
          if (character === ']') throw new Error(`unescaped ] in SD-PARAM ${name}`);
          value += character;
          position++;
        }
        position++;
        params.set(name, value);
      }
      if (text[position] !== ']') throw new Error(`SD-ELEMENT ${id} is not closed`);
      position++;
      structuredData.set(id, params);
    }
  }
  const msg = text[position] === ' ' ? text.slice(position + 1) : text.slice(position);
  return {
    priority: Number(header[1]),
    version: Number(header[2]),
    timestamp: header[3],
    hostname: header[4],
    appName: header[5],
    procId: header[6],
    msgId: header[7],
    structuredData,
    msg,
  };
}

export interface Cef {
  version: string;
  vendor: string;
  product: string;
  deviceVersion: string;
  signatureId: string;
  name: string;
  severity: string;
  extension: Map<string, string>;
}

/** Splits `count` pipe-separated header fields off `text`, where `\|` and `\\` are escapes; returns them and the rest. */
function splitHeader(text: string, start: number, count: number): { fields: string[]; rest: string } {
  const fields: string[] = [];
  let current = '';
  let position = start;
  while (fields.length < count) {
    const character = text[position];
    if (character === undefined) throw new Error(`header has fewer than ${count} fields`);
    if (character === '\\' && (text[position + 1] === '|' || text[position + 1] === '\\')) {
      current += text[position + 1];
      position += 2;
    } else if (character === '|') {
      fields.push(current);
      current = '';
      position++;
    } else {
      current += character;
      position++;
    }
  }
  return { fields, rest: text.slice(position) };
}

/**
 * Parses `CEF:Version|Vendor|Product|Version|SignatureID|Name|Severity|Extension`, where header
 * fields escape `|` and `\` with a backslash, and extension values escape `=` and `\` and write
 * line breaks as `\n` and `\r`. An extension key is the word before an unescaped `=`.
 */
export function parseCef(text: string): Cef {
  if (!text.startsWith('CEF:')) throw new Error(`not a CEF record: ${text.slice(0, 80)}`);
  const { fields, rest } = splitHeader(text, 4, 7);
  return {
    version: fields[0],
    vendor: fields[1],
    product: fields[2],
    deviceVersion: fields[3],
    signatureId: fields[4],
    name: fields[5],
    severity: fields[6],
    extension: parseCefExtension(rest),
  };
}

function parseCefExtension(text: string): Map<string, string> {
  const result = new Map<string, string>();
  const keys = [...text.matchAll(/(?:^| )([A-Za-z0-9_]+)=/g)].filter((match) => !isEscaped(text, match.index + match[0].length - 1));
  keys.forEach((match, index) => {
    const start = match.index + match[0].length;
    const end = index + 1 < keys.length ? keys[index + 1].index : text.length;
    result.set(match[1], unescapeCefValue(text.slice(start, end)));
  });
  return result;
}

function isEscaped(text: string, position: number): boolean {
  let backslashes = 0;
  for (let i = position - 1; i >= 0 && text[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 1;
}

function unescapeCefValue(value: string): string {
  return value.replace(/\\([\\=nr])/g, (_match, character: string) => (character === 'n' ? '\n' : character === 'r' ? '\r' : character));
}

export interface Leef {
  version: string;
  vendor: string;
  product: string;
  productVersion: string;
  eventId: string;
  delimiter: string;
  attributes: Map<string, string>;
}

/** Parses `LEEF:2.0|Vendor|Product|Version|EventID|Delimiter|attributes`, where the delimiter is one character or `xHH`/`0xHH`. */
export function parseLeef(text: string): Leef {
  const { fields, rest } = splitHeader(text, 0, 6);
  const hex = /^(?:0x|x)([0-9a-fA-F]{2,4})$/.exec(fields[5]);
  const delimiter = hex ? String.fromCharCode(parseInt(hex[1], 16)) : fields[5];
  const attributes = new Map<string, string>();
  for (const pair of rest.split(delimiter)) {
    const equals = pair.indexOf('=');
    if (equals > 0) attributes.set(pair.slice(0, equals), pair.slice(equals + 1));
  }
  return { version: fields[0], vendor: fields[1], product: fields[2], productVersion: fields[3], eventId: fields[4], delimiter, attributes };
}

/** Parses JSON objects written one after another, with or without whitespace between them, as Splunk HEC takes them. */
export function parseConcatenatedJson(text: string): unknown[] {
  const values: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const character = text[i];
    if (inString) {
      if (character === '\\') i++;
      else if (character === '"') inString = false;
      continue;
    }
    if (character === '"') inString = true;
    else if (character === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (character === '}') {
      depth--;
      if (depth === 0) values.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  return values;
}
