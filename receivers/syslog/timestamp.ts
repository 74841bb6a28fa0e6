import { daysInMonth, isDigitCode, readDigits, type SyslogTime } from './message.js';
import type { TimeZone } from './timezone.js';

export interface TimestampResult {
  time: SyslogTime;
  /** Index of the first character after the timestamp. */
  end: number;
  /** A deviation from RFC 3339 that did not stop the reading, such as a missing offset. */
  problem?: string;
}

/** Nanoseconds are kept to 9 digits; further digits are read and dropped. */
const MAX_FRACTION_DIGITS = 9;

const MONTHS: Record<string, number> = {
  jan: 0, feb: 1, mar: 2, apr: 3, may: 4, jun: 5, jul: 6, aug: 7, sep: 8, oct: 9, nov: 10, dec: 11,
};

function toTime(wallMs: number, nanos: number, offsetMs: number | undefined, zone: TimeZone): SyslogTime {
  const utcMs = offsetMs === undefined ? zone.wallClockToUtc(wallMs) : wallMs - offsetMs;
  return { seconds: Math.floor(utcMs / 1000), nanos };
}

/** Reads `.digits` at `start`; returns the nanoseconds and the end, or undefined when there is no dot. */
function readFraction(text: string, start: number, maxDigits: number): { nanos: number; end: number; digits: number } | undefined {
  if (text.charCodeAt(start) !== 0x2e) return undefined;
  let i = start + 1;
  let nanos = 0;
  while (i < text.length && isDigitCode(text.charCodeAt(i)) && i - start - 1 < maxDigits) {
    if (i - start - 1 < MAX_FRACTION_DIGITS) nanos = nanos * 10 + text.charCodeAt(i) - 0x30;
    i++;
  }
  const digits = i - start - 1;
  for (let d = Math.min(digits, MAX_FRACTION_DIGITS); d < MAX_FRACTION_DIGITS; d++) nanos *= 10;
  return { nanos, end: i, digits };
}

interface DateTimeFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function validFields(fields: DateTimeFields): string | undefined {
  if (fields.month < 0 || fields.month > 11) return 'month is out of range';
  if (fields.day < 1 || fields.day > daysInMonth(fields.year, fields.month)) return 'day is out of range';
  if (fields.hour > 23) return 'hour is out of range';
  if (fields.minute > 59) return 'minute is out of range';
  if (fields.second > 60) return 'second is out of range';
  return undefined;
}

function wallMs(fields: DateTimeFields): number {
  const ms = Date.UTC(fields.year, fields.month, fields.day, fields.hour, fields.minute, fields.second);
  // Date.UTC maps years 0-99 to 1900-1999; set the year again to keep them as written.
  return fields.year < 100 ? new Date(ms).setUTCFullYear(fields.year) : ms;
}

/**
 * Reads an RFC 3339 timestamp at `start`. Strict mode follows RFC 5424 section 6.2.3: upper-case
 * `T` and `Z`, an offset, and a fraction of at most 9 digits (RFC 5424 allows 6; senders such as
 * systemd-journald send 9). Lenient mode, for RFC 3164 messages, also takes a space or `t`
 * between date and time, `+hhmm` offsets, fractions of any length, and no offset at all, which
 * means the configured zone.
 */
export function readRfc3339(text: string, start: number, zone: TimeZone, strict: boolean): TimestampResult | string {
  const year = readDigits(text, start, 4);
  const month = readDigits(text, start + 5, 2);
  const day = readDigits(text, start + 8, 2);
  if (year < 0 || text[start + 4] !== '-' || month < 0 || text[start + 7] !== '-' || day < 0) return 'invalid date';
  const separator = text[start + 10];
  if (separator !== 'T' && (strict || (separator !== 't' && separator !== ' '))) return 'invalid date-time separator';
  const hour = readDigits(text, start + 11, 2);
  const minute = readDigits(text, start + 14, 2);
  const second = readDigits(text, start + 17, 2);
  if (hour < 0 || text[start + 13] !== ':' || minute < 0 || text[start + 16] !== ':' || second < 0) return 'invalid time';
  const fields = { year, month: month - 1, day, hour, minute, second };
  const problem = validFields(fields);
  if (problem) return problem;

  let i = start + 19;
  let nanos = 0;
  const fraction = readFraction(text, i, strict ? MAX_FRACTION_DIGITS + 1 : Number.MAX_SAFE_INTEGER);
  if (fraction) {
    if (fraction.digits === 0) return 'empty fraction of a second';
    if (strict && fraction.digits > MAX_FRACTION_DIGITS) return 'fraction of a second longer than 9 digits';
    nanos = fraction.nanos;
    i = fraction.end;
  }

  const zoneChar = text[i];
  if (zoneChar === 'Z' || (!strict && zoneChar === 'z')) return { time: toTime(wallMs(fields), nanos, 0, zone), end: i + 1 };
  if (zoneChar === '+' || zoneChar === '-') {
    const offsetHours = readDigits(text, i + 1, 2);
    const colon = text[i + 3] === ':';
    const offsetMinutes = readDigits(text, i + (colon ? 4 : 3), 2);
    if (offsetHours < 0 || offsetMinutes < 0 || (strict && !colon)) return 'invalid time offset';
    if (offsetHours > 23 || offsetMinutes > 59) return 'time offset is out of range';
    const sign = zoneChar === '-' ? -1 : 1;
    const offsetMs = sign * (offsetHours * 60 + offsetMinutes) * 60_000;
    return { time: toTime(wallMs(fields), nanos, offsetMs, zone), end: i + (colon ? 6 : 5) };
  }
  const result: TimestampResult = { time: toTime(wallMs(fields), nanos, undefined, zone), end: i };
  if (strict) result.problem = `TIMESTAMP has no offset; read in ${zone.name}`;
  return result;
}

/** Reads an RFC 3164 month name, any case. */
function readMonth(text: string, start: number): number | undefined {
  return MONTHS[text.slice(start, start + 3).toLowerCase()];
}

function readOneOrTwoDigits(text: string, start: number): { value: number; end: number } | undefined {
  if (!isDigitCode(text.charCodeAt(start))) return undefined;
  if (isDigitCode(text.charCodeAt(start + 1))) return { value: readDigits(text, start, 2), end: start + 2 };
  return { value: text.charCodeAt(start) - 0x30, end: start + 1 };
}

function skipSpaces(text: string, start: number): number {
  let i = start;
  while (text.charCodeAt(i) === 0x20) i++;
  return i;
}

/** Reads `hh:mm:ss` at `start`; undefined when the text has another shape. */
function readClock(text: string, start: number): { hour: number; minute: number; second: number } | undefined {
  const hour = readDigits(text, start, 2);
  const minute = readDigits(text, start + 3, 2);
  const second = readDigits(text, start + 6, 2);
  if (hour < 0 || minute < 0 || second < 0 || text[start + 2] !== ':' || text[start + 5] !== ':') return undefined;
  return { hour, minute, second };
}

/** Years accepted in an RFC 3164 timestamp, so that a hostname such as `0001:db8::1` is not read as one. */
const MIN_YEAR = 1970;
const MAX_YEAR = 2199;

/** Reads a four-digit year followed by a space, or by the end of the text when `atEnd` allows it. */
function readYear(text: string, start: number, atEnd: boolean): number | undefined {
  const year = readDigits(text, start, 4);
  if (year < MIN_YEAR || year > MAX_YEAR) return undefined;
  const after = text.charCodeAt(start + 4);
  return after === 0x20 || (atEnd && (Number.isNaN(after) || after === 0x3a)) ? year : undefined;
}

/**
 * Picks the year of a timestamp that has none: the current year in the zone, except across New
 * Year, where a December stamp received in January belongs to the previous year and a January
 * stamp received in December to the next (as syslog-ng infers it).
 */
export function inferYear(month: number, nowMs: number, zone: TimeZone): number {
  const now = zone.yearAndMonthAt(nowMs);
  if (month === 11 && now.month === 0) return now.year - 1;
  if (month === 0 && now.month === 11) return now.year + 1;
  return now.year;
}

/**
 * Reads an RFC 3164 timestamp `Mmm dd hh:mm:ss` at `start` and the variants devices send: any
 * case of the month, a one-digit day without padding, a year after the day (`Oct  3 2024
 * 13:19:33`, Cisco) or after the time (`Apr 15 21:28:13 2007`), a fraction of a second, a trailing
 * colon (Cisco), and a trailing `UTC` or `GMT`. Returns undefined when the text has another shape.
 */
export function readRfc3164Timestamp(text: string, start: number, zone: TimeZone, nowMs: number): TimestampResult | undefined {
  const month = readMonth(text, start);
  if (month === undefined || text.charCodeAt(start + 3) !== 0x20) return undefined;
  const day = readOneOrTwoDigits(text, skipSpaces(text, start + 3));
  if (!day || text.charCodeAt(day.end) !== 0x20) return undefined;

  let i = skipSpaces(text, day.end);
  let year = readYear(text, i, false);
  if (year !== undefined) i = skipSpaces(text, i + 4);
  const clock = readClock(text, i);
  if (!clock) return undefined;
  i += 8;

  let nanos = 0;
  const fraction = readFraction(text, i, Number.MAX_SAFE_INTEGER);
  if (fraction) {
    nanos = fraction.nanos;
    i = fraction.end;
  }
  if (year === undefined && text.charCodeAt(i) === 0x20) {
    year = readYear(text, i + 1, true);
    if (year !== undefined) i += 5;
  }

  let utc = false;
  if (text.charCodeAt(i) === 0x3a) i++;
  const zoneName = text.slice(i + 1, i + 4).toUpperCase();
  if (text.charCodeAt(i) === 0x20 && (zoneName === 'UTC' || zoneName === 'GMT') && [0x20, 0x3a, NaN].includes(text.charCodeAt(i + 4))) {
    utc = true;
    i += 4;
    if (text.charCodeAt(i) === 0x3a) i++;
  }

  const fields = { year: year ?? inferYear(month, nowMs, zone), month, day: day.value, ...clock };
  if (validFields(fields)) return undefined;
  return { time: toTime(wallMs(fields), nanos, utc ? 0 : undefined, zone), end: i };
}
