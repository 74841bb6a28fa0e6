/**
 * The fields an access-log line can carry, whatever the gateway. Every format parser fills
 * these, and one function turns them into an OTLP log record with semantic-convention
 * attribute names.
 */
export interface AccessFields {
  /** Event time in milliseconds since the epoch, with sub-millisecond precision when the log has it. */
  timeMs?: number;
  /** The address of the peer that connected to the gateway. */
  remoteAddress?: string;
  remotePort?: number;
  remoteUser?: string;
  method?: string;
  /** The request target as sent: path and query, or an absolute URL. */
  target?: string;
  /** The protocol as written in the request line, such as `HTTP/1.1`. */
  protocol?: string;
  /** The raw request line, kept when it could not be split into method, target and protocol. */
  requestLine?: string;
  status?: number;
  /** Response body bytes. */
  bodyBytesSent?: number;
  /** Request bytes, including the request line and headers, where the log has them. */
  requestLength?: number;
  referer?: string;
  userAgent?: string;
  /** Seconds from the first client byte to the last response byte. */
  requestTime?: number;
  /** Seconds the upstream took, where one was involved. */
  upstreamResponseTime?: number;
  host?: string;
  scheme?: string;
  xForwardedFor?: string;
  upstreamAddress?: string;
  /** Other variables of a custom format, as `nginx.<name>` attributes. */
  extra?: Record<string, string>;
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/**
 * Parses the common-log time `10/Oct/2000:13:55:36 -0700` (nginx `$time_local`, Apache `%t`)
 * into milliseconds since the epoch; undefined when the text has another shape.
 */
export function parseCommonLogTime(text: string): number | undefined {
  if (text.length < 26 || text[2] !== '/' || text[6] !== '/' || text[11] !== ':') return undefined;
  const day = Number(text.slice(0, 2));
  const month = MONTHS[text.slice(3, 6)];
  const year = Number(text.slice(7, 11));
  const hour = Number(text.slice(12, 14));
  const minute = Number(text.slice(15, 17));
  const second = Number(text.slice(18, 20));
  const sign = text[21] === '-' ? -1 : 1;
  const offsetMinutes = Number(text.slice(22, 24)) * 60 + Number(text.slice(24, 26));
  if (month === undefined || [day, year, hour, minute, second, offsetMinutes].some(Number.isNaN)) return undefined;
  return Date.UTC(year, month, day, hour, minute, second) - sign * offsetMinutes * 60_000;
}

/** Splits `GET /path?q HTTP/1.1`; a target with spaces in it stays whole. */
export function splitRequestLine(line: string): Pick<AccessFields, 'method' | 'target' | 'protocol'> | undefined {
  const firstSpace = line.indexOf(' ');
  if (firstSpace <= 0) return undefined;
  const method = line.slice(0, firstSpace);
  if (!/^[A-Za-z_-]{1,20}$/.test(method)) return undefined;
  const lastSpace = line.lastIndexOf(' ');
  const tail = line.slice(lastSpace + 1);
  if (lastSpace > firstSpace && /^HTTP\/\d(?:\.\d)?$/i.test(tail)) {
    return { method, target: line.slice(firstSpace + 1, lastSpace), protocol: tail };
  }
  return { method, target: line.slice(firstSpace + 1) };
}

/** Reads a number field where `-` means absent. */
export function optionalNumber(text: string | undefined): number | undefined {
  if (text === undefined || text === '' || text === '-') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Reads a text field where `-` means absent. */
export function optionalText(text: string | undefined): string | undefined {
  return text === undefined || text === '' || text === '-' ? undefined : text;
}
