import type { Detector } from './detector.js';
import type { EventView } from '../view.js';

/*
 * Credentials in the query string: passwords, API keys, tokens and session ids in URLs end up in
 * access logs, browser history, proxies and Referer headers. The finding names the parameter,
 * never its value.
 */

/** Parameter names that carry a credential, lower-case, without `[]`. Evidence masks their values too. */
export const CREDENTIAL_PARAMETERS = new Set([
  'password', 'passwd', 'pwd', 'pass', 'passphrase', 'pin', 'secret', 'client_secret', 'app_secret', 'api_secret', 'api_key', 'apikey',
  'api-key', 'access_key', 'secret_key', 'access_token', 'refresh_token', 'id_token', 'auth_token', 'authtoken', 'private_token',
  'private_key', 'bearer', 'jwt', 'session', 'sessionid', 'session_id', 'sid', 'jsessionid', 'phpsessid', 'aspsessionid',
  'aws_secret_access_key', 'x-api-key', 'credentials', 'auth',
]);
/** Values that stand for "no credential". */
const PLACEHOLDERS = new Set(['', 'null', 'undefined', 'none', 'true', 'false', '0', '1', '***', '****', '*****', 'xxx', 'redacted', '<redacted>']);

/** Reports the parameter that carries a credential, a JWT or URL user info; undefined when none does. */
export function detectCredentialsInQuery(parameters: { name: string; value: string }[]): string | undefined {
  for (const { name, value } of parameters) {
    const found = credentialParameter(name, value);
    if (found) return found;
  }
  return undefined;
}

/** Judges one decoded query parameter. */
function credentialParameter(name: string, value: string): string | undefined {
  const key = name.endsWith('[]') ? name.slice(0, -2) : name;
  if (CREDENTIAL_PARAMETERS.has(key) && value.length >= 3 && !PLACEHOLDERS.has(value)) return `url.query:${key}`;
  if (value.startsWith('eyj') && /^eyj[a-z0-9_-]{8,}\.[a-z0-9_-]{8,}\.[a-z0-9_-]*$/.test(value)) return `url.query:${key.slice(0, 64)} holds a JWT`;
  if (value.indexOf('@') > 0 && /^[a-z][a-z0-9+.-]{1,16}:\/\/[^/@\s:]{1,64}:[^/@\s]{1,128}@/.test(value)) return `url.query:${key.slice(0, 64)} holds a URL with a password`;
  return undefined;
}

export const credentialsInQuery: Detector = {
  name: 'credentials_in_query',
  description: 'Passwords, API keys, tokens, session ids and JWTs in the query string, or a session id in the path.',
  detect: (view: EventView) => {
    const query = view.query;
    for (let i = 0; i < query.length; i++) {
      const { parameter, value } = query[i];
      if (parameter === undefined) continue;
      // Locations hold names cut to 64 characters; the finding names the parameter as they do.
      const found = credentialParameter(parameter.length > 64 ? parameter.slice(0, 64) : parameter, value);
      if (found) return found;
    }
    const path = view.path;
    return path.indexOf(';jsessionid=') >= 0 || path.indexOf(';sessionid=') >= 0 || path.indexOf(';phpsessid=') >= 0 ? 'url.path: session id path parameter' : undefined;
  },
};
