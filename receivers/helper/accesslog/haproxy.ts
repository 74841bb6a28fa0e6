import { addExtra, optionalNumber, type AccessFields } from './fields.js';
import { applyRequestLine } from './variables.js';
import { parseCommonLogTime, type ZoneOffset } from './time.js';

/*
 * HAProxy's `option httplog`:
 *   client:port [accept_date] frontend backend/server Tq/Tw/Tc/Tr/Ta status bytes cookie_req
 *   cookie_resp termination_state actconn/feconn/beconn/srv_conn/retries srv_queue/backend_queue
 *   {captured request headers} {captured response headers} "request"
 * usually behind a syslog header, since HAProxy logs through syslog. Custom `log-format` lines that
 * add fields before the timers (a host, for example) are read too, because the timers are found
 * by their shape. Connection errors (`client:port [date] frontend/bind: SSL handshake failure`)
 * give a record with the client and the message.
 */

const MONTH_PREFIX = /^(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d\d:\d\d:\d\d /;
const TIMERS = /^(?:-?\d+\/){3,4}\+?-?\d+$/;

/** Removes a syslog header (`<134>` and `Mmm dd hh:mm:ss host tag[pid]: `) when there is one. */
export function stripSyslogHeader(line: string): string {
  let text = line;
  if (text[0] === '<') {
    const close = text.indexOf('>');
    if (close > 0 && close <= 4) text = text.slice(close + 1);
  }
  if (MONTH_PREFIX.test(text.slice(0, 16))) {
    const tagEnd = text.indexOf(': ', 16);
    if (tagEnd > 0 && tagEnd < 128) return text.slice(tagEnd + 2);
  }
  return text;
}

/** Reads the message of an HAProxy HTTP log line, with or without the syslog header. */
export function parseHaproxy(line: string, zone: ZoneOffset): AccessFields | undefined {
  const text = stripSyslogHeader(line);
  const space = text.indexOf(' ');
  if (space <= 0 || text[space + 1] !== '[') return undefined;
  const client = text.slice(0, space);
  const colon = client.lastIndexOf(':');
  const dateEnd = text.indexOf('] ', space);
  if (colon < 0 || dateEnd < 0) return undefined;
  const timeMs = parseCommonLogTime(text.slice(space + 2, dateEnd), zone);
  if (timeMs === undefined) return undefined;
  const fields: AccessFields = { extraPrefix: 'haproxy', timeMs };
  const address = client.slice(0, colon);
  fields.remoteAddress = address === '-' ? undefined : address.replace(/^\[(.*)\]$/, '$1');
  fields.remotePort = optionalNumber(client.slice(colon + 1));

  const rest = text.slice(dateEnd + 2);
  const firstSpace = rest.indexOf(' ');
  const firstToken = firstSpace < 0 ? rest : rest.slice(0, firstSpace);
  if (firstToken.endsWith(':')) {
    // A connection-level error: `frontend/bind: message`.
    addExtra(fields, 'frontend', firstToken.slice(0, -1).split('/')[0]);
    fields.message = rest.slice(firstToken.length + 1);
    addExtra(fields, 'error.kind', fields.message.startsWith('SSL handshake failure') ? 'tls_handshake_failure' : 'connection_error');
    return fields;
  }
  return readHttpLog(rest, fields);
}

function readHttpLog(rest: string, fields: AccessFields): AccessFields | undefined {
  const quote = rest.indexOf('"');
  const braces = rest.indexOf(' {');
  const headEnd = [quote, braces].filter((index) => index >= 0).reduce((a, b) => Math.min(a, b), rest.length);
  const tokens = rest.slice(0, headEnd).trim().split(' ');
  const timersAt = tokens.findIndex((token, index) => index >= 2 && TIMERS.test(token));
  if (timersAt < 0 || tokens.length < timersAt + 3) return undefined;

  const [frontend, backendServer] = tokens;
  const slash = backendServer.indexOf('/');
  addExtra(fields, 'frontend', frontend);
  addExtra(fields, 'backend', slash > 0 ? backendServer.slice(0, slash) : backendServer);
  addExtra(fields, 'server', slash > 0 ? backendServer.slice(slash + 1) : undefined);
  if (timersAt > 2) addExtra(fields, 'custom', tokens.slice(2, timersAt).join(' '));
  readTimers(tokens[timersAt], fields);
  fields.status = optionalNumber(tokens[timersAt + 1]);
  fields.bodyBytesSent = optionalNumber(tokens[timersAt + 2]?.replace(/^\+/, ''));
  addExtra(fields, 'termination_state', tokens[timersAt + 5]);
  addExtra(fields, 'connections', tokens[timersAt + 6]);
  addExtra(fields, 'queues', tokens[timersAt + 7]);

  let position = headEnd;
  const captured: string[] = [];
  while (rest[position] === ' ' && rest[position + 1] === '{' && captured.length < 2) {
    const close = rest.indexOf('}', position + 2);
    if (close < 0) break;
    captured.push(rest.slice(position + 2, close));
    position = close + 1;
  }
  addExtra(fields, 'captured_request_headers', captured[0]);
  addExtra(fields, 'captured_response_headers', captured[1]);

  const open = rest.indexOf('"', position);
  if (open >= 0) {
    // The request is the last field; HAProxy cuts very long ones, closing quote included.
    const close = rest.endsWith('"') && rest.length - 1 > open ? rest.length - 1 : rest.length;
    applyRequestLine(fields, rest.slice(open + 1, close));
  }
  return fields;
}

/** `Tq/Tw/Tc/Tr/Ta` in milliseconds; -1 marks a phase never reached. */
function readTimers(token: string, fields: AccessFields): void {
  const timers = token.split('/').map((value) => Number(value.replace(/^\+/, '')));
  const total = timers[timers.length - 1];
  const response = timers[timers.length - 2];
  if (total >= 0) fields.requestTime = total / 1000;
  if (response >= 0) fields.upstreamResponseTime = response / 1000;
  addExtra(fields, 'timers', token);
}
