import { endpoint, integer, object, string } from '../../../core/config/schema.js';
import { defaultHelperConfig, helperSchemaFields, validateHelperConfig, type ExporterHelperConfig } from '../../helper/config.js';
import { clientTlsSchema, defaultClientTls, type ClientTlsConfig } from '../../helper/http.js';

/** Facility names and their codes, RFC 5424 section 6.2.1. */
export const FACILITIES = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  ntp: 12, audit: 13, alert: 14, clock: 15, local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
} as const;

export type FacilityName = keyof typeof FACILITIES;

export interface SyslogExporterConfig extends ExporterHelperConfig {
  /** The receiver's `host:port`. Required. */
  endpoint: string;
  /** `udp`, `tcp` (the default) or `tls`. */
  transport: 'udp' | 'tcp' | 'tls';
  /**
   * `rfc5424` (the default): a finding as structured data plus a summary. `cef` and `leef`: an
   * ArcSight CEF or QRadar LEEF 2.0 record behind a syslog header.
   */
  format: 'rfc5424' | 'cef' | 'leef';
  /** The syslog header in front of CEF and LEEF records: `rfc5424` (the default) or `rfc3164`. */
  syslog_header: 'rfc5424' | 'rfc3164';
  /** Stream framing: `octet_counting` (the default, RFC 6587 and RFC 5425) or `newline`. UDP sends one message per datagram. */
  framing: 'octet_counting' | 'newline';
  /** Default `local0`. */
  facility: FacilityName;
  /** The HOSTNAME field; empty (the default) uses this machine's hostname. */
  hostname: string;
  /** The APP-NAME field. Default `watchpost`. */
  app_name: string;
  /**
   * The SD-ID of the structured-data element. Default `watchpost@32473`, where 32473 is the
   * private enterprise number that RFC 5612 reserves for documentation; an organization with its
   * own number should use it here.
   */
  sd_id: string;
  /** Messages longer than this are cut, in bytes. Default 8192, rsyslog's default maxMessageSize. */
  max_message_size: number;
  tls: ClientTlsConfig;
}

export function createDefaultConfig(): SyslogExporterConfig {
  const helper = defaultHelperConfig();
  helper.sending_queue.batch = { enabled: true, flush_timeout: 200, min_size: 256, max_size: 0, max_bytes: 0 };
  return {
    ...helper,
    endpoint: '',
    transport: 'tcp',
    format: 'rfc5424',
    syslog_header: 'rfc5424',
    framing: 'octet_counting',
    facility: 'local0',
    hostname: '',
    app_name: 'watchpost',
    sd_id: 'watchpost@32473',
    max_message_size: 8192,
    tls: defaultClientTls(),
  };
}

/** SD-NAME: 1 to 32 printable US-ASCII characters except `=`, space, `]` and `"` (RFC 5424 section 6.3.2). */
const SD_NAME = /^[\x21-\x7e]{1,32}$/;

export const schema = object({
  endpoint: endpoint(),
  transport: string({ enum: ['udp', 'tcp', 'tls'] as const }),
  format: string({ enum: ['rfc5424', 'cef', 'leef'] as const }),
  syslog_header: string({ enum: ['rfc5424', 'rfc3164'] as const }),
  framing: string({ enum: ['octet_counting', 'newline'] as const }),
  facility: string({ enum: Object.keys(FACILITIES) as FacilityName[] }),
  hostname: string({ allowEmpty: true }),
  app_name: string(),
  sd_id: string({ check: (text) => (SD_NAME.test(text) && !/[= \]"]/.test(text) ? undefined : `must be an SD-ID of 1 to 32 printable ASCII characters without '=', ' ', ']' or '"', such as watchpost@32473, got ${JSON.stringify(text)}`) }),
  max_message_size: integer({ min: 480 }),
  tls: clientTlsSchema,
  ...helperSchemaFields,
}, { required: ['endpoint'] });

export { validateHelperConfig as validate };
