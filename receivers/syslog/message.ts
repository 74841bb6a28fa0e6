import type { TimeZone } from './timezone.js';

/** An event time: whole seconds since the epoch and nanoseconds within the second. */
export interface SyslogTime {
  seconds: number;
  nanos: number;
}

/** Structured data: SD-ID to parameter name to value, with escapes removed. */
export type StructuredData = Record<string, Record<string, string>>;

/** The fields of one syslog message, as far as they could be read. */
export interface SyslogMessage {
  /** The grammar that read the message; `none` reads only the PRI. */
  protocol: 'rfc5424' | 'rfc3164' | 'none';
  /**
   * PRI value 0-191. A message without PRI gets 13 (user.notice, RFC 3164 section 4.3.3), unless
   * `allowSkipPri` or protocol `none` is set. Then it has no priority, as in the Collector.
   */
  priority?: number;
  /** RFC 5424 VERSION. */
  version?: number;
  time?: SyslogTime;
  hostname?: string;
  /** RFC 5424 APP-NAME, or the RFC 3164 TAG without its `[pid]`. */
  appname?: string;
  procId?: string;
  msgId?: string;
  /** The sequence number Cisco IOS puts before the timestamp (`123: *Oct  7 ...`). */
  sequence?: string;
  structuredData?: StructuredData;
  /** RFC 5424 MSG or RFC 3164 CONTENT; the whole text after the PRI when the header could not be read. */
  message: string;
  /** Why the message breaks its grammar; the fields read before (or despite) the problem are kept. */
  error?: string;
  /** True when a header field was cut to its RFC 5424 length limit, so the record must keep the whole text. */
  fieldsCut?: boolean;
}

/** Choices for reading RFC 3164 messages where senders and receivers disagree. */
export interface Rfc3164Options {
  /** The word after the TIMESTAMP may be the HOSTNAME; false reads it as the TAG (syslog-ng's `no-hostname` flag). */
  expectHostname: boolean;
  /** Tests of words that are never a HOSTNAME, so the word is read as the TAG (syslog-ng's `bad-hostname()`). */
  badHostnames: ((word: string) => boolean)[];
  /** A TAG must end with a colon (`tag:`, `tag[pid]:`), as with rsyslog's `force.tagEndingByColon`. */
  tagRequiresColon: boolean;
  /** Read the Cisco IOS form `seq: [HOST:] TIMESTAMP: ...`. */
  ciscoIos: boolean;
  /** The reading of a message without TIMESTAMP; see `HeaderlessMode`. */
  headerless: HeaderlessMode;
}

/**
 * The reading of a message that has no TIMESTAMP after the PRI:
 * - `content`: the text is the CONTENT (RFC 3164 section 4.3.2), except a leading `TAG:` or `TAG[pid]`;
 * - `tag`: the first word is the TAG, as syslog-ng reads it;
 * - `hostname_and_tag`: the first words are the HOSTNAME and the TAG, as rsyslog's pmrfc3164 reads
 *   them unless `detect.headerless` is on. syslogd's `last message repeated N times` stays whole.
 */
export type HeaderlessMode = 'content' | 'tag' | 'hostname_and_tag';

export interface ParseOptions {
  protocol: 'rfc5424' | 'rfc3164' | 'auto' | 'none';
  /** The zone of timestamps that carry no offset. */
  timeZone: TimeZone;
  /** Receive time in milliseconds, for year inference and messages without a timestamp. */
  nowMs: number;
  /** Accept messages without PRI, which then have no priority (the Collector's `allow_skip_pri_header`). */
  allowSkipPri: boolean;
  rfc3164: Rfc3164Options;
}

/** RFC 3164 section 4.3.3: a relay gives a message without PRI the value 13 (user.notice). */
export const DEFAULT_PRIORITY = 13;

/** Syslog severity (PRI & 7) names, as RFC 5424 table 2 abbreviates them. */
export const SEVERITY_TEXT = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'] as const;

/**
 * OTLP severity numbers for syslog severities 0-7, as the Collector's syslog parser maps them:
 * emerg FATAL2, alert FATAL, crit ERROR2, err ERROR, warning WARN, notice INFO2, info INFO, debug DEBUG.
 */
export const SEVERITY_NUMBER = [22, 21, 18, 17, 13, 10, 9, 5] as const;

export interface PriResult {
  priority: number;
  /** Index of the first character after `>`. */
  end: number;
}

const LT = 0x3c;
const GT = 0x3e;

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/**
 * Reads `<PRIVAL>` at the start of the text: one to three digits without a leading zero, at most
 * 191. Returns undefined when the text does not start with `<`, and an error message when the
 * PRI is malformed.
 */
export function readPri(text: string): PriResult | string | undefined {
  if (text.charCodeAt(0) !== LT) return undefined;
  let value = 0;
  let i = 1;
  for (; i < text.length && i <= 4 && isDigit(text.charCodeAt(i)); i++) value = value * 10 + text.charCodeAt(i) - 0x30;
  const digits = i - 1;
  if (digits === 0) return 'PRI has no digits';
  if (text.charCodeAt(i) !== GT) return digits > 3 ? 'PRI is longer than 3 digits' : 'PRI is not closed by ">"';
  if (digits > 1 && text.charCodeAt(1) === 0x30) return 'PRI has a leading zero';
  if (value > 191) return `PRI ${value} is out of range 0-191`;
  return { priority: value, end: i + 1 };
}

export function isDigitCode(code: number): boolean {
  return isDigit(code);
}

/** Reads a fixed number of decimal digits at `start`; -1 when any is not a digit. */
export function readDigits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const code = text.charCodeAt(i);
    if (!isDigit(code)) return -1;
    value = value * 10 + code - 0x30;
  }
  return value;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in a month (0-11) of a year of the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
  if (month !== 1) return DAYS_IN_MONTH[month];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return leap ? 29 : 28;
}
