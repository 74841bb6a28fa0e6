import { isDigitCode, type ParseOptions, type SyslogMessage } from './message.js';
import { readRfc3164Timestamp, readRfc3339, type TimestampResult } from './timestamp.js';

/*
 * RFC 3164 (BSD syslog) as devices send it: `<PRI>TIMESTAMP SP HOSTNAME SP TAG[pid]: CONTENT`,
 * where every part after the PRI may be missing or bent. The reader tries the known shapes in
 * order and keeps whatever text it does not recognise in the message, so no part of the input
 * is dropped.
 */

const SP = 0x20;
const TAB = 0x09;
const COLON = 0x3a;

function isSpace(code: number): boolean {
  return code === SP || code === TAB;
}

function isLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

function skipSpaces(text: string, start: number): number {
  let i = start;
  while (text.charCodeAt(i) === SP) i++;
  return i;
}

/** The end of the token at `start`: the next space, tab or the end of the text. */
function tokenEnd(text: string, start: number): number {
  let i = start;
  while (i < text.length && !isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** Hostname characters: letters, digits and `.-_:@/` (names, IPv4 and IPv6 addresses). */
function isHostnameCode(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)
    || code === 0x2e || code === 0x2d || code === 0x5f || code === COLON || code === 0x40 || code === 0x2f;
}

/** Reports whether a token that ends with `:` is an IPv6 address such as `fe80::`, not a TAG. */
function isIpv6Like(token: string): boolean {
  let colons = 0;
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    if (code === COLON) colons++;
    else if (!((code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66) || code === 0x2e)) return false;
  }
  return colons >= 2;
}

function looksLikeHostname(token: string): boolean {
  if (token.length === 0 || token.length > 255 || token.charCodeAt(0) === 0x25) return false;
  if (token.charCodeAt(token.length - 1) === COLON && !isIpv6Like(token)) return false;
  for (let i = 0; i < token.length; i++) {
    if (!isHostnameCode(token.charCodeAt(i))) return false;
  }
  return true;
}

/** Reads a timestamp in either RFC 3164 or ISO 8601 form, after an optional Cisco `*` or `.` marker. */
function readTimestamp(text: string, start: number, options: ParseOptions): TimestampResult | undefined {
  let i = start;
  const marker = text.charCodeAt(i);
  if (marker === 0x2a || marker === 0x2e) i++;
  const bsd = readRfc3164Timestamp(text, i, options.timeZone, options.nowMs);
  if (bsd) return bsd;
  if (!isDigitCode(text.charCodeAt(i)) || text.charCodeAt(i + 4) !== 0x2d) return undefined;
  const iso = readRfc3339(text, i, options.timeZone, false);
  if (typeof iso === 'string') return undefined;
  if (text.charCodeAt(iso.end) === COLON) iso.end++;
  return iso;
}

interface Tag {
  appname: string;
  procId?: string;
  /** Index of the CONTENT. */
  end: number;
}

/**
 * What makes a word a TAG: `word` also takes a bare word (RFC 3164 section 4.1.3, after the
 * HOSTNAME), `delimited` needs a colon or `[pid]` after the name, and `colon` needs a colon after
 * the name or after its `[pid]`.
 */
type TagRule = 'word' | 'delimited' | 'colon';

/**
 * Reads `TAG:`, `TAG[pid]:`, `TAG[pid]` or a bare `TAG` at `start`, as `rule` allows, then one
 * separating space or tab. RFC 3164 section 4.1.3 ends the TAG at the first character that cannot
 * be part of it; in practice senders use any printable word, so the TAG runs to a space, tab, `:`
 * or `[`.
 */
function readTag(text: string, start: number, rule: TagRule): Tag | undefined {
  const end = tokenEnd(text, start);
  let i = start;
  while (i < end && text.charCodeAt(i) !== COLON && text.charCodeAt(i) !== 0x5b) i++;
  if (i === start) return undefined;
  const tag: Tag = { appname: text.slice(start, i), end: i };
  let colon = false;
  if (text.charCodeAt(i) === 0x5b) {
    const close = text.indexOf(']', i);
    if (close < 0 || close >= end || close - i > 129) return undefined;
    tag.procId = text.slice(i + 1, close);
    i = close + 1;
    if (text.charCodeAt(i) === COLON) {
      colon = true;
      i++;
    }
  } else if (text.charCodeAt(i) === COLON) {
    // `http://` and the like are content, not a TAG.
    if (text.charCodeAt(i + 1) === 0x2f) return undefined;
    colon = true;
    i++;
  } else if (rule !== 'word') {
    return undefined;
  }
  if (rule === 'colon' && !colon) return undefined;
  if (isSpace(text.charCodeAt(i))) i++;
  tag.end = i;
  return tag;
}

/** Sets the TAG and the CONTENT after it, or, without a TAG, the CONTENT from `start`. */
function applyTag(message: SyslogMessage, text: string, start: number, tag: Tag | undefined): void {
  if (tag) {
    message.appname = tag.appname;
    if (tag.procId !== undefined) message.procId = tag.procId;
    message.message = text.slice(tag.end);
  } else {
    message.message = text.slice(start);
  }
}

/** Reads a Cisco IOS sequence number `123: ` and an optional `HOST: ` when a timestamp follows them. */
function readCiscoPrefix(text: string, start: number, options: ParseOptions): { sequence: string; hostname?: string; timestamp: TimestampResult } | undefined {
  let i = start;
  while (isDigitCode(text.charCodeAt(i)) && i - start < 20) i++;
  if (i === start || text.charCodeAt(i) !== COLON || text.charCodeAt(i + 1) !== SP) return undefined;
  const sequence = text.slice(start, i);
  const next = skipSpaces(text, i + 2);
  const timestamp = readTimestamp(text, next, options);
  if (timestamp) return { sequence, timestamp };
  const hostEnd = tokenEnd(text, next);
  if (text.charCodeAt(hostEnd - 1) !== COLON || text.charCodeAt(hostEnd) !== SP) return undefined;
  const hostname = text.slice(next, hostEnd - 1);
  const afterHost = readTimestamp(text, skipSpaces(text, hostEnd + 1), options);
  return afterHost && looksLikeHostname(hostname) ? { sequence, hostname, timestamp: afterHost } : undefined;
}

const AIX_FORWARD = 'Message forwarded from ';
const LAST_MESSAGE = 'last message repeated ';

/** Reports whether the text is syslogd's summary line `last message repeated N times`. */
function isLastMessageLine(text: string, start: number): boolean {
  if (!text.startsWith(LAST_MESSAGE, start)) return false;
  let i = start + LAST_MESSAGE.length;
  const digits = i;
  while (isDigitCode(text.charCodeAt(i))) i++;
  return i > digits && text.length === i + ' times'.length && text.endsWith(' times');
}

function isAlphanumeric(code: number): boolean {
  return isLetter(code) || isDigitCode(code);
}

/** Reads a message that has no TIMESTAMP after the PRI, as `options.rfc3164.headerless` says. */
function parseHeaderless(message: SyslogMessage, text: string, start: number, hadPri: boolean, options: ParseOptions): SyslogMessage {
  const { headerless, tagRequiresColon } = options.rfc3164;
  const begin = skipSpaces(text, start);
  if (headerless === 'tag') {
    applyTag(message, text, begin, readTag(text, begin, tagRequiresColon ? 'colon' : 'word'));
  } else if (headerless === 'hostname_and_tag' && !isLastMessageLine(text, start)) {
    // rsyslog reads from the first character: a leading space means neither HOSTNAME nor TAG.
    const end = tokenEnd(text, start);
    const word = text.slice(start, end);
    let i = start;
    if (looksLikeHostname(word) && isAlphanumeric(word.charCodeAt(word.length - 1))) {
      message.hostname = word;
      i = end < text.length ? end + 1 : end;
    }
    applyTag(message, text, i, readTag(text, i, tagRequiresColon ? 'colon' : 'word'));
  } else {
    // The text is the CONTENT, but a leading `program:` or `program[pid]:` is still a TAG.
    const tag = isLetter(text.charCodeAt(begin)) ? readTag(text, begin, tagRequiresColon ? 'colon' : 'delimited') : undefined;
    const last = tag ? text.charCodeAt(tag.end - 1) : 0;
    applyTag(message, text, start, tag && last !== 0x5d && (last === COLON || isSpace(last)) ? tag : undefined);
  }
  if (!hadPri) message.error = headerless === 'content' ? 'no PRI and no timestamp; kept as plain text' : 'no PRI and no timestamp';
  return message;
}

/** Reports whether the word after the TIMESTAMP is the HOSTNAME. */
function isHostname(word: string, options: ParseOptions): boolean {
  const { expectHostname, badHostnames } = options.rfc3164;
  return expectHostname && looksLikeHostname(word) && !badHostnames.some((matches) => matches(word));
}

/**
 * Parses an RFC 3164 message whose PRI was read already; `start` is the index after it. A
 * message without PRI and without timestamp is reported as an error.
 */
export function parseRfc3164(text: string, priority: number | undefined, start: number, hadPri: boolean, options: ParseOptions): SyslogMessage {
  const message: SyslogMessage = { protocol: 'rfc3164', priority, message: '' };
  const begin = skipSpaces(text, start);

  const cisco = options.rfc3164.ciscoIos ? readCiscoPrefix(text, begin, options) : undefined;
  const timestamp = cisco?.timestamp ?? readTimestamp(text, begin, options);
  if (!timestamp) return parseHeaderless(message, text, start, hadPri, options);
  message.time = timestamp.time;
  if (cisco) {
    message.sequence = cisco.sequence;
    if (cisco.hostname) message.hostname = cisco.hostname;
  }

  let i = skipSpaces(text, timestamp.end);
  if (text.startsWith(AIX_FORWARD, i)) {
    const hostEnd = tokenEnd(text, i + AIX_FORWARD.length);
    if (text.charCodeAt(hostEnd - 1) === COLON) {
      message.hostname = text.slice(i + AIX_FORWARD.length, hostEnd - 1);
      i = skipSpaces(text, hostEnd);
    }
  }
  if (message.hostname === undefined) {
    const end = tokenEnd(text, i);
    if (isHostname(text.slice(i, end), options)) {
      message.hostname = text.slice(i, end);
      i = end < text.length ? end + 1 : end;
    }
  }
  applyTag(message, text, i, readTag(text, i, options.rfc3164.tagRequiresColon ? 'colon' : 'word'));
  return message;
}
