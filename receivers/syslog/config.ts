import { boolean, endpoint, integer, list, object, record, string } from '../../core/config/schema.js';

export interface SyslogTlsConfig {
  /** PEM certificate chain the server presents. Required. */
  cert_file: string;
  /** PEM private key of the certificate. Required. */
  key_file: string;
  /** PEM CA bundle; when set, clients must present a certificate signed by it (mutual TLS). Empty: no client certificates. */
  client_ca_file: string;
  /** Lowest TLS version accepted: `1.2` or `1.3`. Default `1.2`. */
  min_version: '1.2' | '1.3';
}

export interface SyslogTcpConfig {
  /** Listen address; default 127.0.0.1:5514. */
  endpoint: string;
  /**
   * RFC 6587 framing: `octet_counting` (`LEN SP MSG`), `non_transparent` (messages end with the
   * trailer), or `auto`, which picks per message. Default `auto`.
   */
  framing: 'auto' | 'octet_counting' | 'non_transparent';
  /** Trailer of non-transparent framing: `LF` (CR LF works too) or `NUL`. Default `LF`. */
  trailer: 'LF' | 'NUL';
  /** Open connections accepted at once; further ones are closed at once and counted. Default 1024. */
  max_connections: number;
  /** TLS on this listener; absent means plain TCP. */
  tls?: SyslogTlsConfig;
}

export interface SyslogUdpConfig {
  /** Listen address; default 127.0.0.1:5514. */
  endpoint: string;
  /** Socket receive buffer in bytes (SO_RCVBUF); 0 keeps the system default. Default 0. */
  receive_buffer_size: number;
}

export interface AccessLogConfig {
  /** An access-log format of receivers/helper/accesslog, such as `nginx_combined`. */
  format: string;
  /** An nginx `log_format` string, for `format: nginx`. */
  log_format: string;
}

/** Choices for reading RFC 3164 messages where senders, and the receivers they were written for, disagree. */
export interface Rfc3164Config {
  /**
   * Read the word after the TIMESTAMP as the HOSTNAME when it looks like one. False reads it as the
   * TAG, for senders that leave the HOSTNAME out (syslog-ng's `no-hostname` flag). Default true.
   */
  expect_hostname: boolean;
  /**
   * Glob patterns (`*` matches any run of characters, `?` one character) of words that are never a
   * HOSTNAME: such a word after the TIMESTAMP is read as the TAG (syslog-ng's `bad-hostname()`).
   * Default empty.
   */
  bad_hostnames: string[];
  /**
   * Take a word as the TAG only when a colon ends it (`tag:`, `tag[pid]:`), as rsyslog's
   * `force.tagEndingByColon` and the Collector's RFC 3164 parser do. Default false: after the
   * HOSTNAME, a bare word is the TAG (RFC 3164 section 4.1.3).
   */
  tag_requires_colon: boolean;
  /** Read the Cisco IOS form `seq: [HOST:] TIMESTAMP: %FACILITY-SEVERITY-MNEMONIC: ...`. Default true. */
  cisco_ios: boolean;
  /**
   * The reading of a message without TIMESTAMP. `content`: the text is the CONTENT (RFC 3164
   * section 4.3.2), but a leading `tag:` or `tag[pid]` is the TAG. `tag`: the first word is the TAG,
   * as syslog-ng reads it. `hostname_and_tag`: the first words are the HOSTNAME and the TAG, as
   * rsyslog reads them unless its `detect.headerless` is on. Default `content`.
   */
  headerless: 'content' | 'tag' | 'hostname_and_tag';
}

export interface SyslogReceiverConfig {
  /** TCP listener; runs only when the key is present (`tcp:` with no value takes the defaults). */
  tcp?: SyslogTcpConfig;
  /** UDP listener; runs only when the key is present. */
  udp?: SyslogUdpConfig;
  /**
   * `rfc5424`, `rfc3164`, `auto` (RFC 5424 when a VERSION follows the PRI, else RFC 3164), or
   * `none`, which reads only a PRI and keeps the rest as the body. Default `auto`.
   */
  protocol: 'rfc5424' | 'rfc3164' | 'auto' | 'none';
  /** IANA time zone of timestamps without an offset (RFC 3164), or `Local`. Default `UTC`. */
  location: string;
  /**
   * Accept messages without PRI, as the Collector's option of that name does: they get no priority,
   * facility or severity. False: an RFC 3164 message without PRI gets PRI 13 (user.notice, RFC 3164
   * section 4.3.3), and with `protocol: rfc5424` one without PRI is a parse error. Default false.
   */
  allow_skip_pri_header: boolean;
  /** RFC 3164 reading options. */
  rfc3164: Rfc3164Config;
  /** Longest message kept, in bytes; a longer one becomes one record with its head, marked as truncated. Default 64 KiB. */
  max_message_size: number;
  /** Messages per batch sent to the worker pool. Default 1000. */
  max_batch_messages: number;
  /** Read each message with an access-log format, so the record carries HTTP attributes for detection. Absent: off. */
  access_log?: AccessLogConfig;
  /** Resource attributes of every record, such as `service.name`. */
  resource: Record<string, string>;
}

export const DEFAULT_ENDPOINT = '127.0.0.1:5514';

export function defaultTcpConfig(): SyslogTcpConfig {
  return { endpoint: DEFAULT_ENDPOINT, framing: 'auto', trailer: 'LF', max_connections: 1024 };
}

export function defaultUdpConfig(): SyslogUdpConfig {
  return { endpoint: DEFAULT_ENDPOINT, receive_buffer_size: 0 };
}

export function defaultTlsConfig(): Omit<SyslogTlsConfig, 'cert_file' | 'key_file'> {
  return { client_ca_file: '', min_version: '1.2' };
}

export function defaultRfc3164Config(): Rfc3164Config {
  return { expect_hostname: true, bad_hostnames: [], tag_requires_colon: false, cisco_ios: true, headerless: 'content' };
}

export function createDefaultConfig(): SyslogReceiverConfig {
  return {
    protocol: 'auto',
    location: 'UTC',
    allow_skip_pri_header: false,
    rfc3164: defaultRfc3164Config(),
    max_message_size: 64 * 1024,
    max_batch_messages: 1000,
    resource: {},
  };
}

export const schema = object({
  tcp: object({
    endpoint: endpoint(),
    framing: string({ enum: ['auto', 'octet_counting', 'non_transparent'] as const }),
    trailer: string({ enum: ['LF', 'NUL'] as const }),
    max_connections: integer({ min: 1, max: 1_000_000 }),
    tls: object({
      cert_file: string(),
      key_file: string(),
      client_ca_file: string({ allowEmpty: true }),
      min_version: string({ enum: ['1.2', '1.3'] as const }),
    }, { required: ['cert_file', 'key_file'] }),
  }),
  udp: object({
    endpoint: endpoint(),
    receive_buffer_size: integer({ min: 0, max: 1 << 30 }),
  }),
  protocol: string({ enum: ['rfc5424', 'rfc3164', 'auto', 'none'] as const }),
  location: string(),
  allow_skip_pri_header: boolean(),
  rfc3164: object({
    expect_hostname: boolean(),
    bad_hostnames: list(string()),
    tag_requires_colon: boolean(),
    cisco_ios: boolean(),
    headerless: string({ enum: ['content', 'tag', 'hostname_and_tag'] as const }),
  }),
  max_message_size: integer({ min: 64, max: 16 * 1024 * 1024 }),
  max_batch_messages: integer({ min: 1, max: 100_000 }),
  access_log: object({
    format: string(),
    log_format: string({ allowEmpty: true }),
  }, { required: ['format'] }),
  resource: record(string({ allowEmpty: true })),
});

/** Fills in the defaults of each enabled transport. */
export function resolveTransports(config: SyslogReceiverConfig): { tcp?: SyslogTcpConfig; udp?: SyslogUdpConfig } {
  const tcp = config.tcp ? { ...defaultTcpConfig(), ...config.tcp } : undefined;
  if (tcp?.tls) tcp.tls = { ...defaultTlsConfig(), ...tcp.tls };
  return { tcp, udp: config.udp ? { ...defaultUdpConfig(), ...config.udp } : undefined };
}
