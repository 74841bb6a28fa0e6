import { isDigitCode, type ParseOptions, type StructuredData, type SyslogMessage } from './message.js';
import { readRfc3339 } from './timestamp.js';

/*
 * RFC 5424 (The Syslog Protocol), section 6:
 *   HEADER = PRI VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID
 *   SYSLOG-MSG = HEADER SP STRUCTURED-DATA [SP MSG]
 * Header fields are PRINTUSASCII (33-126) or NILVALUE `-`. The parser reads as far as it can. A
 * header field longer than its RFC limit is cut to the limit, and the record then keeps the whole
 * text in `log.record.original`. An SD-ID used twice is kept. Both are reported as errors. A break
 * in the grammar (a missing space, a bad timestamp) stops the parser, and the whole text becomes
 * the message so that nothing is lost.
 */

const SP = 0x20;
const NIL = '-';

/** Maximum lengths from RFC 5424 section 6. */
const LIMITS = { HOSTNAME: 255, 'APP-NAME': 48, PROCID: 128, MSGID: 32, 'SD-NAME': 32 } as const;

class Failure {
  constructor(readonly message: string) {}
}

class Reader {
  i: number;
  /** Problems that did not stop parsing; made on the first one, because most messages have none. */
  problems: string[] | undefined;
  /** True once a header field was cut to its length limit. */
  cut = false;

  constructor(readonly text: string, start: number) {
    this.i = start;
  }

  problem(text: string): void {
    (this.problems ??= []).push(text);
  }

  fail(what: string): never {
    throw new Failure(`${what} at column ${this.i + 1}`);
  }

  space(after: string): void {
    if (this.text.charCodeAt(this.i) !== SP) this.fail(`expected a space after ${after}`);
    this.i++;
  }

  /** Reads a header field up to the next space; NILVALUE gives undefined. */
  field(name: keyof typeof LIMITS): string | undefined {
    const start = this.i;
    while (this.i < this.text.length) {
      const code = this.text.charCodeAt(this.i);
      if (code === SP) break;
      if (code < 33 || code > 126) this.fail(`${name} contains a character outside printable US-ASCII`);
      this.i++;
    }
    if (this.i === start) this.fail(`${name} is empty`);
    const value = this.text.slice(start, this.i);
    if (value === NIL) return undefined;
    if (value.length <= LIMITS[name]) return value;
    this.problem(`${name} is longer than ${LIMITS[name]} characters; cut to the limit`);
    this.cut = true;
    return value.slice(0, LIMITS[name]);
  }
}

function readVersion(reader: Reader, message: SyslogMessage): void {
  const text = reader.text;
  const start = reader.i;
  while (reader.i < text.length && reader.i - start < 3 && isDigitCode(text.charCodeAt(reader.i))) reader.i++;
  const digits = text.slice(start, reader.i);
  if (digits.length === 0 || digits[0] === '0') reader.fail('VERSION must be a number from 1 to 999');
  message.version = Number(digits);
  if (isDigitCode(text.charCodeAt(reader.i))) reader.fail('VERSION is longer than 3 digits');
}

/** SD-NAME characters: PRINTUSASCII except `=`, SP, `]` and `"`. */
function isSdNameCode(code: number): boolean {
  return code > 32 && code < 127 && code !== 0x3d && code !== 0x5d && code !== 0x22;
}

function readSdName(reader: Reader, what: string): string {
  const start = reader.i;
  while (reader.i < reader.text.length && isSdNameCode(reader.text.charCodeAt(reader.i))) reader.i++;
  if (reader.i === start) reader.fail(`expected ${what}`);
  const name = reader.text.slice(start, reader.i);
  if (name.length > LIMITS['SD-NAME']) reader.problem(`${what} "${name.slice(0, 40)}…" is longer than 32 characters`);
  return name;
}

/**
 * Reads a PARAM-VALUE after its opening quote. `\"`, `\\` and `\]` are unescaped. RFC 5424
 * section 6.3.3 calls a backslash before any other character an invalid escape sequence and keeps
 * both characters as they are: so does this reader, and it reports the sequence. An unescaped `]`
 * is kept and reported.
 */
function readParamValue(reader: Reader): string {
  const text = reader.text;
  let value = '';
  let chunkStart = reader.i;
  while (reader.i < text.length) {
    const char = text[reader.i];
    if (char === '"') {
      value += text.slice(chunkStart, reader.i);
      reader.i++;
      return value;
    }
    if (char === '\\') {
      const next = text[reader.i + 1];
      if (next === '"' || next === '\\' || next === ']') {
        value += text.slice(chunkStart, reader.i) + next;
        reader.i += 2;
        chunkStart = reader.i;
        continue;
      }
      reader.problem(`invalid escape sequence in a PARAM-VALUE at column ${reader.i + 1}; kept as written`);
    } else if (char === ']') {
      reader.problem(`unescaped "]" in a PARAM-VALUE at column ${reader.i + 1}`);
    }
    reader.i++;
  }
  return reader.fail('PARAM-VALUE is not closed by a quote');
}

/**
 * Sets an own property. A sender's `__proto__` becomes an ordinary name, where assignment would
 * replace the object's prototype instead. (Objects without prototype would avoid this too, but V8
 * keeps them in slow dictionary mode.)
 */
function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function readSdElement(reader: Reader, data: StructuredData): void {
  const text = reader.text;
  reader.i++; // '['
  const id = readSdName(reader, 'SD-ID');
  const duplicate = Object.hasOwn(data, id);
  if (duplicate) reader.problem(`SD-ID "${id}" appears more than once`);
  const params: Record<string, string> = {};
  if (!duplicate) setOwn(data, id, params);
  for (;;) {
    const code = text.charCodeAt(reader.i);
    if (code === 0x5d) {
      reader.i++;
      return;
    }
    if (code !== SP) reader.fail('expected a space or "]" in an SD-ELEMENT');
    reader.i++;
    const name = readSdName(reader, 'PARAM-NAME');
    if (text[reader.i] !== '=') reader.fail('expected "=" after a PARAM-NAME');
    reader.i++;
    if (text.charCodeAt(reader.i) === SP) {
      // Some senders put a space between `=` and the quote; read on, as rsyslog does.
      reader.problem(`space after "=" in PARAM-NAME "${name.slice(0, 40)}"`);
      while (text.charCodeAt(reader.i) === SP) reader.i++;
    }
    if (text[reader.i] !== '"') reader.fail('expected a quote before a PARAM-VALUE');
    reader.i++;
    setOwn(params, name, readParamValue(reader));
  }
}

/**
 * Reads STRUCTURED-DATA into the message; elements read before a failure stay. Returns false
 * when the field is missing and the message starts at the current position.
 */
function readStructuredData(reader: Reader, message: SyslogMessage): boolean {
  const text = reader.text;
  if (text[reader.i] === NIL) {
    reader.i++;
    return true;
  }
  if (text[reader.i] !== '[') {
    // Some senders leave STRUCTURED-DATA out; what follows is the message.
    reader.problem(`missing STRUCTURED-DATA at column ${reader.i + 1}`);
    return false;
  }
  const data: StructuredData = {};
  message.structuredData = data;
  while (text[reader.i] === '[') readSdElement(reader, data);
  return true;
}

/**
 * Parses an RFC 5424 message whose PRI (or its absence) was read already; `start` is the index of
 * VERSION. Never throws: a message that breaks the grammar comes back with `error` set.
 */
export function parseRfc5424(text: string, priority: number | undefined, start: number, options: ParseOptions): SyslogMessage {
  const message: SyslogMessage = { protocol: 'rfc5424', priority, message: text };
  const reader = new Reader(text, start);
  try {
    readVersion(reader, message);
    reader.space('VERSION');
    if (text[reader.i] === NIL) {
      reader.i++;
    } else {
      const timestamp = readRfc3339(text, reader.i, options.timeZone, true);
      if (typeof timestamp === 'string') return failed(message, reader, new Failure(`invalid TIMESTAMP (${timestamp}) at column ${reader.i + 1}`));
      message.time = timestamp.time;
      reader.i = timestamp.end;
      if (timestamp.problem) reader.problem(timestamp.problem);
    }
    reader.space('TIMESTAMP');
    message.hostname = reader.field('HOSTNAME');
    reader.space('HOSTNAME');
    message.appname = reader.field('APP-NAME');
    reader.space('APP-NAME');
    message.procId = reader.field('PROCID');
    reader.space('PROCID');
    message.msgId = reader.field('MSGID');
    reader.space('MSGID');
    if (!readStructuredData(reader, message)) {
      message.message = text.slice(reader.i);
    } else if (reader.i < text.length) {
      reader.space('STRUCTURED-DATA');
      message.message = text.slice(reader.i);
    } else {
      message.message = '';
    }
  } catch (error) {
    if (!(error instanceof Failure)) throw error;
    return failed(message, reader, error);
  }
  if (reader.problems) message.error = reader.problems.join('; ');
  if (reader.cut) message.fieldsCut = true;
  return message;
}

/** Ends parsing at a break in the grammar: the whole text becomes the message. */
function failed(message: SyslogMessage, reader: Reader, failure: Failure): SyslogMessage {
  message.message = reader.text;
  message.error = [failure.message, ...(reader.problems ?? [])].join('; ');
  return message;
}
