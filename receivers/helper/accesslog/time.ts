/**
 * Timestamp readers for the shapes gateways write. Each returns milliseconds since the epoch, or
 * undefined when the text has another shape. None of them uses a regular expression on the log
 * text; they check fixed positions, so a malformed value costs a few comparisons.
 */

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/**
 * The offset of a time zone from UTC at a moment, in minutes, for times that a log writes without
 * a zone (nginx and Apache error logs, HAProxy's accept date). `localMs` is the wall-clock time
 * read as if it were UTC.
 */
export type ZoneOffset = (localMs: number) => number;

export const UTC: ZoneOffset = () => 0;

/** Reads `digits` decimal digits at `start`; NaN when any is not a digit. */
function digitsAt(text: string, start: number, digits: number): number {
  let value = 0;
  for (let i = start; i < start + digits; i++) {
    const code = text.charCodeAt(i) - 48;
    if (code < 0 || code > 9) return NaN;
    value = value * 10 + code;
  }
  return value;
}

/** Reads `.ffffff` at `start`; returns the fraction in milliseconds and the index after it. */
function fractionAt(text: string, start: number): { ms: number; end: number } {
  if (text[start] !== '.' && text[start] !== ',') return { ms: 0, end: start };
  let end = start + 1;
  let scale = 100;
  let ms = 0;
  while (end < text.length) {
    const code = text.charCodeAt(end) - 48;
    if (code < 0 || code > 9) break;
    ms += code * scale;
    scale /= 10;
    end++;
  }
  return { ms, end };
}

/** Reads a zone designator (`Z`, `+0200`, `+02:00`) at `start`; offset in minutes, or NaN. */
function zoneAt(text: string, start: number): { minutes: number; end: number } {
  const sign = text[start];
  if (sign === 'Z' || sign === 'z') return { minutes: 0, end: start + 1 };
  if (sign !== '+' && sign !== '-') return { minutes: NaN, end: start };
  const hours = digitsAt(text, start + 1, 2);
  const colon = text[start + 3] === ':' ? 1 : 0;
  const minutes = digitsAt(text, start + 3 + colon, 2);
  const value = (sign === '-' ? -1 : 1) * (hours * 60 + minutes);
  return { minutes: value, end: start + 5 + colon };
}

function utc(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  if ([year, month, day, hour, minute, second].some(Number.isNaN)) return NaN;
  if (month < 0 || month > 11 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return NaN;
  return Date.UTC(year, month, day, hour, minute, second);
}

function finish(localMs: number, zoneMinutes: number | undefined, zone: ZoneOffset): number | undefined {
  if (Number.isNaN(localMs)) return undefined;
  const offset = zoneMinutes ?? zone(localMs);
  return Number.isNaN(offset) ? undefined : localMs - offset * 60_000;
}

/**
 * Reads the common-log time `10/Oct/2000:13:55:36 -0700` (nginx `$time_local`, Apache `%t`), also
 * with milliseconds (`30/Jul/2018:09:03:52.726`, HAProxy) and without a zone, which `zone` then supplies.
 */
export function parseCommonLogTime(text: string, zone: ZoneOffset = UTC): number | undefined {
  if (text.length < 20 || text[2] !== '/' || text[6] !== '/' || text[11] !== ':') return undefined;
  const month = MONTHS[text.slice(3, 6)];
  if (month === undefined) return undefined;
  const local = utc(digitsAt(text, 7, 4), month, digitsAt(text, 0, 2), digitsAt(text, 12, 2), digitsAt(text, 15, 2), digitsAt(text, 18, 2));
  const fraction = fractionAt(text, 20);
  if (fraction.end === text.length) return finish(local + fraction.ms, undefined, zone);
  if (text[fraction.end] !== ' ') return undefined;
  const offset = zoneAt(text, fraction.end + 1);
  if (offset.end !== text.length) return undefined;
  return finish(local + fraction.ms, offset.minutes, zone);
}

/**
 * Reads ISO 8601 / RFC 3339 date-times: `2021-03-16T20:20:00.135052Z`, `2024-11-21T18:52:10+0000`,
 * and the space-separated `2021-06-04 15:40:27.138633`. A time without a zone is read in `zone`.
 */
export function parseIsoTime(text: string, zone: ZoneOffset = UTC): number | undefined {
  if (text.length < 19 || text[4] !== '-' || text[7] !== '-' || (text[10] !== 'T' && text[10] !== ' ') || text[13] !== ':' || text[16] !== ':') return undefined;
  const local = utc(digitsAt(text, 0, 4), digitsAt(text, 5, 2) - 1, digitsAt(text, 8, 2), digitsAt(text, 11, 2), digitsAt(text, 14, 2), digitsAt(text, 17, 2));
  const fraction = fractionAt(text, 19);
  if (fraction.end === text.length) return finish(local + fraction.ms, undefined, zone);
  const offset = zoneAt(text, fraction.end);
  if (offset.end !== text.length) return undefined;
  return finish(local + fraction.ms, offset.minutes, zone);
}

/** Reads `2021/04/01 13:02:31` (nginx error log, LiteSpeed), which has no zone. */
export function parseSlashTime(text: string, zone: ZoneOffset = UTC): number | undefined {
  if (text.length < 19 || text[4] !== '/' || text[7] !== '/' || text[10] !== ' ' || text[13] !== ':' || text[16] !== ':') return undefined;
  const local = utc(digitsAt(text, 0, 4), digitsAt(text, 5, 2) - 1, digitsAt(text, 8, 2), digitsAt(text, 11, 2), digitsAt(text, 14, 2), digitsAt(text, 17, 2));
  const fraction = fractionAt(text, 19);
  if (fraction.end !== text.length) return undefined;
  return finish(local + fraction.ms, undefined, zone);
}

/** Reads `Thu Oct 13 12:24:49.880562 2022` (Apache 2.4 error log) and the form without a fraction. */
export function parseCtime(text: string, zone: ZoneOffset = UTC): number | undefined {
  if (text.length < 24 || text[3] !== ' ' || text[7] !== ' ' || text[13] !== ':' || text[16] !== ':') return undefined;
  const month = MONTHS[text.slice(4, 7)];
  if (month === undefined) return undefined;
  const day = text[8] === ' ' ? digitsAt(text, 9, 1) : digitsAt(text, 8, 2);
  const fraction = fractionAt(text, 19);
  if (text[fraction.end] !== ' ' || fraction.end + 5 !== text.length) return undefined;
  const local = utc(digitsAt(text, fraction.end + 1, 4), month, day, digitsAt(text, 11, 2), digitsAt(text, 14, 2), digitsAt(text, 17, 2));
  return finish(local + fraction.ms, undefined, zone);
}

/** Reads any of the shapes above; for fields whose shape varies by configuration. */
export function parseAnyTime(text: string, zone: ZoneOffset = UTC): number | undefined {
  return parseIsoTime(text, zone) ?? parseCommonLogTime(text, zone) ?? parseSlashTime(text, zone) ?? parseCtime(text, zone);
}

/** Reads epoch seconds with an optional fraction, such as Caddy's `1693840791.7564995` or nginx's `$msec`. */
export function parseEpochSeconds(value: unknown): number | undefined {
  let seconds = NaN;
  if (typeof value === 'number') seconds = value;
  else if (typeof value === 'string' && value !== '') seconds = Number(value);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/**
 * Builds the zone of a `timezone` option: `UTC`, a fixed offset such as `+02:00`, or an IANA name
 * such as `Europe/Paris` (offsets then follow daylight saving time). Throws for an unknown zone.
 */
export function zoneOffset(name: string | undefined): ZoneOffset {
  if (!name || name === 'UTC' || name === 'Z') return UTC;
  const fixed = zoneAt(name, 0);
  if (!Number.isNaN(fixed.minutes) && fixed.end === name.length) return () => fixed.minutes;
  return namedZone(name);
}

/** Offsets per hour of local time are cached; a log's lines share a few hours, so the cache stays small. */
const MAX_CACHED_HOURS = 1024;

function namedZone(name: string): ZoneOffset {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: name,
    hourCycle: 'h23',
    year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
  });
  const offsetAt = (instant: number): number => {
    const parts: Record<string, number> = {};
    for (const part of format.formatToParts(instant)) parts[part.type] = Number(part.value);
    const local = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
    return Math.round((local - Math.floor(instant / 1000) * 1000) / 60_000);
  };
  const cache = new Map<number, number>();
  return (localMs) => {
    const hour = Math.floor(localMs / 3_600_000);
    let offset = cache.get(hour);
    if (offset === undefined) {
      // Local time minus the offset at a first guess gives the instant; one more step settles
      // the offset near a daylight-saving change.
      const guess = offsetAt(localMs);
      offset = offsetAt(localMs - guess * 60_000);
      if (cache.size >= MAX_CACHED_HOURS) cache.clear();
      cache.set(hour, offset);
    }
    return offset;
  };
}
