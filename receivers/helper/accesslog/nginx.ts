import { checkTemplate, compileTemplate, type LineSplitter, type Token } from './template.js';

export type { FieldMap, LineSplitter } from './template.js';

/** nginx's predefined `combined` format. */
export const NGINX_COMBINED = '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"';

/** The `main` format of nginx's sample configuration: `combined` plus X-Forwarded-For. */
export const NGINX_MAIN = `${NGINX_COMBINED} "$http_x_forwarded_for"`;

/** The default `log-format-upstream` of the Kubernetes ingress-nginx controller. */
export const INGRESS_NGINX_UPSTREAMINFO = `${NGINX_COMBINED} $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id`;

/**
 * Reads an nginx `log_format` string into template tokens: `$name` and `${name}` are variables,
 * everything else is literal text. An `escape=` parameter in front of the string is ignored, because
 * the reader undoes both the default and the JSON escaping.
 */
export function nginxTokens(format: string): Token[] {
  const tokens: Token[] = [];
  let literal = '';
  const text = format.replace(/^escape=(?:default|json|none)\s+/, '');
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '$') {
      literal += text[i];
      continue;
    }
    const braced = text[i + 1] === '{';
    const match = /^[A-Za-z0-9_]+/.exec(text.slice(braced ? i + 2 : i + 1));
    if (!match) {
      literal += '$';
      continue;
    }
    if (literal) tokens.push({ kind: 'literal', text: literal });
    literal = '';
    tokens.push({ kind: 'variable', name: match[0] });
    i += match[0].length + (braced ? 2 : 0);
  }
  if (literal) tokens.push({ kind: 'literal', text: literal });
  return tokens;
}

/** Compiles an nginx `log_format` string into a line splitter; throws when the format cannot be split. */
export function compileNginxFormat(format: string): LineSplitter {
  const tokens = nginxTokens(format);
  checkTemplate(tokens, (name) => `$${name}`);
  return compileTemplate(tokens);
}
