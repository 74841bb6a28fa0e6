import { addExtra, optionalNumber, optionalText, type AccessFields } from './fields.js';
import { applyRequestLine } from './variables.js';
import { isIP } from 'node:net';
import { stripPort } from './client.js';
import { parseAnyTime, parseIsoTime, parseSlashTime, type ZoneOffset } from './time.js';

/*
 * Error logs of nginx, Apache and LiteSpeed. Most of their lines describe the server, but some
 * describe a client: failed basic authentication and requests rejected by nginx's `limit_req`.
 * Those get the client address and, where the server's response is fixed, the status it sent, so
 * that rules counting failures per client see them.
 */

/**
 * The status the server sends for each kind of classified error-log line, where it is fixed.
 * nginx rejects `limit_req` and `limit_conn` excess with 503 unless `limit_req_status` or
 * `limit_conn_status` say otherwise, which the error log does not show.
 */
const KIND_STATUS: Record<string, number | undefined> = {
  auth_failure: 401,
  access_denied: 403,
  limit_req: 503,
  limit_conn: 503,
  limit_req_delay: undefined,
};

function classify(fields: AccessFields, kind: string, user?: string): void {
  addExtra(fields, 'error.kind', kind);
  const status = KIND_STATUS[kind];
  if (status !== undefined) fields.status = status;
  if (user !== undefined && user !== '') fields.remoteUser = user;
}

/**
 * Reads an nginx error-log line:
 * `2022/05/30 20:56:22 [error] 7164#7164: *38068741 limiting requests, excess: 50.416 by zone "api", client: 10.244.0.0, server: _, request: "GET / HTTP/2.0", host: "127.0.0.1:8080"`.
 *
 * NOTE: nginx writes some client-supplied text unescaped into these lines, the basic-auth user
 * name among it, so a client can forge text that looks like the `, client: ` context. The parser
 * reads the first such context after the message, which a crafted user name can precede.
 */
export function parseNginxError(line: string, zone: ZoneOffset): AccessFields | undefined {
  if (line.length < 24 || line[19] !== ' ' || line[20] !== '[') return undefined;
  const timeMs = parseSlashTime(line.slice(0, 19), zone);
  const levelEnd = line.indexOf('] ', 21);
  if (timeMs === undefined || levelEnd < 0 || levelEnd > 30) return undefined;
  const fields: AccessFields = { extraPrefix: 'nginx', timeMs, level: line.slice(21, levelEnd) };

  // `PID#TID: ` and an optional `*CID ` connection number.
  let position = levelEnd + 2;
  const colon = line.indexOf(': ', position);
  const hash = line.indexOf('#', position);
  if (colon < 0 || hash < 0 || hash > colon || !/^\d+$/.test(line.slice(position, hash))) return undefined;
  addExtra(fields, 'pid', Number(line.slice(position, hash)));
  position = colon + 2;
  if (line[position] === '*') {
    const space = line.indexOf(' ', position);
    if (space > 0) {
      addExtra(fields, 'connection', optionalNumber(line.slice(position + 1, space)));
      position = space + 1;
    }
  }

  const context = line.indexOf(', client: ', position);
  fields.message = context < 0 ? line.slice(position) : line.slice(position, context);
  if (context >= 0) readNginxContext(line.slice(context + 2), fields);
  classifyNginxMessage(fields);
  return fields;
}

/** Reads `client: A, server: S, request: "R", upstream: "U", host: "H", referrer: "F"`. */
function readNginxContext(text: string, fields: AccessFields): void {
  let position = 0;
  while (position < text.length) {
    const colon = text.indexOf(': ', position);
    if (colon < 0) return;
    const key = text.slice(position, colon);
    let value: string;
    let end: number;
    if (text[colon + 2] === '"') {
      // A quoted value ends at a quote followed by `, key: ` or the end of the line.
      let quote = text.indexOf('"', colon + 3);
      while (quote >= 0 && quote + 1 < text.length && !/^, [a-z_]+: /.test(text.slice(quote + 1, quote + 40))) quote = text.indexOf('"', quote + 1);
      if (quote < 0) return;
      value = text.slice(colon + 3, quote);
      end = quote + 1;
    } else {
      const comma = text.indexOf(', ', colon + 2);
      end = comma < 0 ? text.length : comma;
      value = text.slice(colon + 2, end);
    }
    applyContext(fields, key, value);
    position = end + 2;
  }
}

function applyContext(fields: AccessFields, key: string, value: string): void {
  switch (key) {
    case 'client': fields.remoteAddress = optionalText(value); break;
    case 'server': addExtra(fields, 'server_name', optionalText(value)); break;
    case 'request': applyRequestLine(fields, value); break;
    case 'host': fields.host = optionalText(value); break;
    case 'referrer': fields.referer = optionalText(value); break;
    case 'upstream': fields.upstreamAddress = optionalText(value); break;
    default: addExtra(fields, key, value);
  }
}

function classifyNginxMessage(fields: AccessFields): void {
  const message = fields.message ?? '';
  if (message.startsWith('user "')) {
    const close = message.lastIndexOf('"', message.indexOf('": password mismatch') >= 0 ? message.indexOf('": password mismatch') : message.indexOf('" was not found'));
    if (close > 6 && (message.includes('password mismatch') || message.includes('was not found'))) classify(fields, 'auth_failure', message.slice(6, close));
  } else if (message.startsWith('no user/password was provided for basic authentication')) {
    classify(fields, 'auth_failure');
  } else if (message.startsWith('limiting requests') || message.startsWith('delaying requests')) {
    classify(fields, message.startsWith('limiting') ? 'limit_req' : 'limit_req_delay');
    const excess = /excess: ([\d.]+)/.exec(message.slice(0, 80));
    const zone = /by zone "([^"]{1,128})"/.exec(message.slice(0, 240));
    if (excess) addExtra(fields, 'limit_req.excess', Number(excess[1]));
    if (zone) addExtra(fields, 'limit_req.zone', zone[1]);
  } else if (message.startsWith('limiting connections by zone')) {
    classify(fields, 'limit_conn');
    const zone = /by zone "([^"]{1,128})"/.exec(message.slice(0, 240));
    if (zone) addExtra(fields, 'limit_conn.zone', zone[1]);
  } else if (message.startsWith('access forbidden by rule')) {
    classify(fields, 'access_denied');
  }
}

/**
 * Reads an Apache error-log line: `[Thu Oct 13 12:24:49.880562 2022] [auth_basic:error] [pid 10:tid
 * 1401] [client 31.33.58.75:50229] AH01618: user sss not found: /`, the 2.2 form `[Wed Oct 11
 * 14:32:52 2000] [error] [client 127.0.0.1] message`, and other time shapes in the first brackets.
 */
export function parseApacheError(line: string, zone: ZoneOffset): AccessFields | undefined {
  if (line[0] !== '[') return undefined;
  const close = line.indexOf(']');
  if (close < 0 || close > 48) return undefined;
  const timeMs = parseAnyTime(line.slice(1, close), zone);
  if (timeMs === undefined) return undefined;
  const fields: AccessFields = { extraPrefix: 'apache', timeMs };
  let position = close + 1;
  for (let group = 0; group < 6; group++) {
    while (line[position] === ' ') position++;
    const rest = line.slice(position, position + 24);
    // `(70014)End of file found: [client …]`: an OS error before the client group.
    if (line[position] === '(' && /^\(\d+\)/.test(rest)) {
      const client = line.indexOf(' [client ', position);
      if (client < 0) break;
      addExtra(fields, 'os_error', line.slice(position, client).replace(/:$/, ''));
      position = client + 1;
      continue;
    }
    if (line[position] !== '[') break;
    const end = line.indexOf(']', position);
    if (end < 0) break;
    readApacheGroup(line.slice(position + 1, end), fields);
    position = end + 1;
  }
  while (line[position] === ' ') position++;
  fields.message = line.slice(position);
  classifyApacheMessage(fields);
  return fields;
}

function readApacheGroup(group: string, fields: AccessFields): void {
  if (group.startsWith('client ') || group.startsWith('remote ')) {
    const address = group.slice(7).trim();
    if (group.startsWith('client ')) {
      // Apache 2.4 writes `address:port` with IPv6 addresses unbracketed; 2.2 writes the address alone.
      const colon = address.lastIndexOf(':');
      const bare = isIP(address) !== 0 || colon < 0;
      fields.remoteAddress = stripPort(bare ? address : address.slice(0, colon));
      fields.remotePort = bare ? undefined : optionalNumber(address.slice(colon + 1));
    } else {
      addExtra(fields, 'remote', address);
    }
  } else if (group.startsWith('pid ')) {
    const [pid, tid] = group.slice(4).split(':tid ');
    addExtra(fields, 'pid', optionalNumber(pid));
    addExtra(fields, 'tid', optionalText(tid));
  } else if (/^[\w.-]+:[\w]+$/.test(group)) {
    const [module, level] = group.split(':');
    addExtra(fields, 'module', module);
    fields.level = level;
  } else if (/^\w+$/.test(group)) {
    fields.level = group;
  }
}

function classifyApacheMessage(fields: AccessFields): void {
  const message = fields.message ?? '';
  // AH01618: user NAME not found: URI
  let match = /^AH01618: user (.{0,256}) not found: (\S+)/.exec(message);
  if (match) {
    classify(fields, 'auth_failure', match[1]);
    fields.target = match[2];
    return;
  }
  // AH01617: user NAME: authentication failure for "URI": Password Mismatch
  match = /^AH01617: user (.{0,256}): authentication failure for "([^"]{0,4096})"/.exec(message);
  if (match) {
    classify(fields, 'auth_failure', match[1]);
    fields.target = match[2];
    return;
  }
  match = /^(?:AH01630: )?client denied by server configuration: (\S+)/.exec(message);
  if (match) {
    classify(fields, 'access_denied');
    fields.target = match[1];
  }
}

/**
 * Reads a LiteSpeed error-log line: `2022-06-09 12:22:07.353044 [INFO] [1226038]
 * [192.168.9.163:61120-5#Example] User 'asdasd' failed to authenticate.`
 */
export function parseLitespeedError(line: string, zone: ZoneOffset): AccessFields | undefined {
  const space = line.indexOf(' [');
  if (space < 19 || space > 32) return undefined;
  const timeMs = parseIsoTime(line.slice(0, space), zone);
  if (timeMs === undefined) return undefined;
  const fields: AccessFields = { extraPrefix: 'litespeed', timeMs };
  let position = space + 1;
  for (let group = 0; group < 6 && line[position] === '['; group++) {
    const end = line.indexOf(']', position);
    if (end < 0) break;
    const text = line.slice(position + 1, end);
    if (group === 0) fields.level = text.toLowerCase();
    else if (group === 1 && /^\d+$/.test(text)) addExtra(fields, 'pid', Number(text));
    else if (fields.remoteAddress === undefined && /^(?:[\d.]+|\[[0-9a-fA-F:.]+\]):\d/.test(text)) {
      // `address:port[:protocol-stream]#vhost`, with IPv6 addresses in brackets.
      const end = text.startsWith('[') ? text.indexOf(']') + 1 : text.indexOf(':');
      fields.remoteAddress = stripPort(text.slice(0, end));
      addExtra(fields, 'vhost', text.split('#')[1]);
    } else addExtra(fields, `context.${group}`, text);
    position = end + 2;
  }
  fields.message = line.slice(Math.min(position, line.length));
  const user = /^User '([^']{0,256})' failed to authenticate/.exec(fields.message) ?? /Failed Login Attempt - username:(\S{0,256})/.exec(fields.message);
  if (user) classify(fields, 'auth_failure', user[1]);
  return fields;
}
