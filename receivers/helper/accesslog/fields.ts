/**
 * The fields an access-log or error-log line can carry, whatever the gateway. Every format parser
 * fills these, and one function turns them into an OTLP log record with semantic-convention
 * attribute names.
 */
export interface AccessFields {
  /** Event time in milliseconds since the epoch, with sub-millisecond precision when the log has it. */
  timeMs?: number;
  /** The address of the peer that connected to the gateway, as logged (a list for some setups). */
  remoteAddress?: string;
  remotePort?: number;
  /** The client address after trusted-proxy resolution; set by the parser wrapper, not by formats. */
  clientAddress?: string;
  /** The port of `clientAddress`, when it is the peer's. */
  clientPort?: number;
  /** The peer that connected, when trusted-proxy resolution blamed another address. */
  peerAddress?: string;
  remoteUser?: string;
  method?: string;
  /** The request target as sent: path and query, or an absolute URL. */
  target?: string;
  /** The protocol as written in the request line, such as `HTTP/1.1`. */
  protocol?: string;
  /** The raw request line, kept as logged when it cannot be split into method, target and protocol. */
  requestLine?: string;
  status?: number;
  /** Response body bytes. */
  bodyBytesSent?: number;
  /** Response bytes including the status line and headers. */
  responseSize?: number;
  /** Request bytes including the request line and headers, where the log has them. */
  requestLength?: number;
  /** Request body bytes. */
  requestBodySize?: number;
  referer?: string;
  userAgent?: string;
  /** Seconds from the first client byte to the last response byte. */
  requestTime?: number;
  /** Seconds the upstream took, where one was involved. */
  upstreamResponseTime?: number;
  host?: string;
  serverPort?: number;
  scheme?: string;
  xForwardedFor?: string;
  upstreamAddress?: string;
  /** The route template the gateway matched, such as `/pets/{petId}`. */
  route?: string;
  requestId?: string;
  /** Error logs: the level as the server writes it (`error`, `warn`, `crit`). */
  level?: string;
  /** Error logs: the message text without the context the server appends. */
  message?: string;
  /** The format that read the line, when `auto` chose it. */
  format?: string;
  /** Other values of the format, written as `<prefix>.<name>` attributes. */
  extra?: Record<string, string | number>;
  /** The attribute prefix of `extra`, such as `nginx` or `haproxy`. */
  extraPrefix?: string;
}

/** Reads a number field where `-` or an empty string means absent. */
export function optionalNumber(text: string | undefined): number | undefined {
  if (text === undefined || text === '' || text === '-') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Reads a text field where `-` or an empty string means absent. */
export function optionalText(text: string | undefined): string | undefined {
  return text === undefined || text === '' || text === '-' ? undefined : text;
}

/** Adds a value to `fields.extra` under the format's prefix, skipping absent values. */
export function addExtra(fields: AccessFields, name: string, value: string | number | undefined): void {
  if (value === undefined || value === '' || value === '-') return;
  (fields.extra ??= {})[name] = value;
}

const METHOD = /^[A-Za-z_-]{1,20}$/;
const PROTOCOL = /^HTTP\/\d(?:\.\d)?$/i;

/**
 * Splits `GET /path?q HTTP/1.1` into method, target and protocol. A target with spaces in it stays
 * whole, because the protocol is read from the last space. Returns undefined when the first word is
 * not a method, as with a TLS handshake sent to a plain-HTTP port.
 */
export function splitRequestLine(line: string): Pick<AccessFields, 'method' | 'target' | 'protocol'> | undefined {
  const firstSpace = line.indexOf(' ');
  if (firstSpace <= 0) return undefined;
  const method = line.slice(0, firstSpace);
  if (!METHOD.test(method)) return undefined;
  const lastSpace = line.lastIndexOf(' ');
  const tail = line.slice(lastSpace + 1);
  if (lastSpace > firstSpace && PROTOCOL.test(tail)) {
    return { method, target: line.slice(firstSpace + 1, lastSpace), protocol: tail };
  }
  return { method, target: line.slice(firstSpace + 1) };
}
