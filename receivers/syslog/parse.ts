import { DEFAULT_PRIORITY, isDigitCode, readPri, type ParseOptions, type PriResult, type SyslogMessage } from './message.js';
import { parseRfc3164 } from './rfc3164.js';
import { parseRfc5424 } from './rfc5424.js';

/** Reports whether `start` holds an RFC 5424 VERSION (1-999) and a space. */
function startsWithVersion(text: string, start: number): boolean {
  let i = start;
  if (!isDigitCode(text.charCodeAt(i)) || text.charCodeAt(i) === 0x30) return false;
  while (i - start < 3 && isDigitCode(text.charCodeAt(i))) i++;
  return text.charCodeAt(i) === 0x20;
}

/** Without a PRI, only `VERSION SP TIMESTAMP` or `VERSION SP -` marks RFC 5424. */
function looksLikeRfc5424WithoutPri(text: string): boolean {
  if (!startsWithVersion(text, 0)) return false;
  const space = text.indexOf(' ');
  const next = text.charCodeAt(space + 1);
  return (next === 0x2d && text.charCodeAt(space + 2) === 0x20) || (isDigitCode(next) && text.charCodeAt(space + 5) === 0x2d);
}

/** Drops spaces before a PRI, which Cisco ASA sends after each LF over TCP. */
function withoutLeadingSpaces(text: string): string {
  if (text.charCodeAt(0) !== 0x20) return text;
  let i = 1;
  while (text.charCodeAt(i) === 0x20) i++;
  return text.charCodeAt(i) === 0x3c ? text.slice(i) : text;
}

/** Protocol `none`: only a PRI is read, and the rest of the text is the message. */
function parsePriOnly(text: string, pri: PriResult | undefined): SyslogMessage {
  if (pri === undefined) return { protocol: 'none', message: text };
  return { protocol: 'none', priority: pri.priority, message: text.slice(pri.end) };
}

/** The last second an OTLP timestamp (unsigned 64-bit nanoseconds since 1970) can hold, in 2554. */
const MAX_OTLP_SECONDS = 18_446_744_072;

/** Leaves out a time that OTLP cannot hold (before 1970 or after 2554), so the record takes the receive time. */
function checkTimeRange(message: SyslogMessage): SyslogMessage {
  if (!message.time || (message.time.seconds >= 0 && message.time.seconds <= MAX_OTLP_SECONDS)) return message;
  message.time = undefined;
  const problem = 'TIMESTAMP is outside 1970-2554, the range of OTLP timestamps; the receive time is used';
  message.error = message.error ? `${message.error}; ${problem}` : problem;
  return message;
}

/**
 * Parses one syslog message (without framing) in the configured protocol. `auto` reads RFC 5424
 * when a VERSION follows the PRI and RFC 3164 otherwise. Never throws: what cannot be read comes
 * back as the message text with `error` set.
 */
export function parseSyslog(input: string, options: ParseOptions): SyslogMessage {
  return checkTimeRange(parseMessage(input, options));
}

function parseMessage(input: string, options: ParseOptions): SyslogMessage {
  const text = withoutLeadingSpaces(input);
  const pri = readPri(text);
  const missingPriority = options.allowSkipPri || options.protocol === 'none' ? undefined : DEFAULT_PRIORITY;
  if (typeof pri === 'string') {
    const protocol = options.protocol === 'auto' ? 'rfc3164' : options.protocol;
    return { protocol, priority: missingPriority, message: text, error: pri };
  }
  if (options.protocol === 'none') return parsePriOnly(text, pri);

  if (pri === undefined) {
    const rfc5424 = options.protocol === 'rfc5424' || (options.protocol === 'auto' && looksLikeRfc5424WithoutPri(text));
    if (rfc5424 && (options.allowSkipPri || options.protocol === 'auto')) return parseRfc5424(text, missingPriority, 0, options);
    if (rfc5424) return { protocol: 'rfc5424', priority: missingPriority, message: text, error: 'missing PRI' };
    return parseRfc3164(text, missingPriority, 0, false, options);
  }

  const useRfc5424 = options.protocol === 'rfc5424' || (options.protocol === 'auto' && startsWithVersion(text, pri.end));
  if (useRfc5424) return parseRfc5424(text, pri.priority, pri.end, options);
  return parseRfc3164(text, pri.priority, pri.end, true, options);
}
