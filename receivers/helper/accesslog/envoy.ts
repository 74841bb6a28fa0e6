import type { AccessFields } from './fields.js';
import { compileTemplate } from './template.js';
import { nginxTokens } from './nginx.js';
import { fieldsFromVariables } from './variables.js';
import type { ZoneOffset } from './time.js';

/**
 * Envoy's default access-log format,
 * `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
 * %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
 * "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"`,
 * written with the variable names the field mapping reads. BYTES_RECEIVED and BYTES_SENT count
 * body bytes; DURATION and the upstream service time are milliseconds. The format has no peer
 * address, so the client comes from X-Forwarded-For, to which Envoy appends its peer.
 */
const ENVOY_DEFAULT = '[$time_iso8601] "$request" $status $response_flags $request_body_length $body_bytes_sent $request_time_ms $upstream_service_time_ms "$http_x_forwarded_for" "$http_user_agent" "$request_id" "$host" "$upstream_addr"';

const splitEnvoy = compileTemplate(nginxTokens(ENVOY_DEFAULT));

export function parseEnvoyDefault(line: string, zone: ZoneOffset): AccessFields | undefined {
  const values = splitEnvoy(line);
  return values ? fieldsFromVariables(values, 'envoy', zone) : undefined;
}
