import type { Finding, Severity } from '../../../core/data/finding.js';
import { findingSummary } from '../../helper/finding-text.js';

/** The syslog header and product fields that every message of one exporter carries. */
export interface MessageOptions {
  /** Facility code, 0–23. */
  facility: number;
  hostname: string;
  appName: string;
  procId: string;
  /** The SD-ID of the structured-data element in RFC 5424 messages, such as `watchpost@32473`. */
  sdId: string;
  /** Product version in CEF and LEEF headers. */
  version: string;
}

/**
 * Syslog severity codes (RFC 5424 section 6.2.1) for finding severities: critical findings are
 * `crit` (2), high `err` (3), medium `warning` (4), low `notice` (5) and info `info` (6).
 */
const SYSLOG_SEVERITY: Record<Severity, number> = { critical: 2, high: 3, medium: 4, low: 5, info: 6 };

/** CEF and LEEF severity, 0–10, where 9–10 is very high, 7–8 high, 4–6 medium and 0–3 low. */
export const CEF_SEVERITY: Record<Severity, number> = { info: 1, low: 3, medium: 5, high: 8, critical: 10 };

export function priority(facility: number, severity: Severity): number {
  return facility * 8 + SYSLOG_SEVERITY[severity];
}

/**
 * Returns a header field as RFC 5424 allows it: printable US-ASCII (33–126) only, at most
 * `max` characters, and `-` (the NILVALUE) when nothing is left.
 */
export function headerField(text: string | undefined, max: number): string {
  const printable = (text ?? '').replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return printable === '' ? '-' : printable;
}

/**
 * Escapes an SD-PARAM value: RFC 5424 section 6.3.3 requires `"`, `\` and `]` to be preceded by
 * a backslash. Control characters, which would break newline-framed transports, become spaces.
 */
export function escapeSdValue(value: string): string {
  return value.replace(/[\\"\]]/g, (character) => `\\${character}`).replace(/[\x00-\x1f\x7f]/g, ' ');
}

/** Lists the parameters of the structured-data element in a fixed order; absent values are left out. */
function sdParams(finding: Finding): [string, string | number | undefined][] {
  return [
    ['id', finding.id],
    ['fingerprint', finding.fingerprint],
    ['status', finding.status],
    ['rule', finding.rule.id],
    ['ruleName', finding.rule.name],
    ['severity', finding.severity],
    ['confidence', finding.confidence],
    ['count', finding.count],
    ['src', finding.actor.address],
    ['user', finding.actor.identity],
    ['apiKey', finding.actor.api_key_fingerprint],
    ['service', finding.target.service],
    ['host', finding.target.host],
    ['method', finding.target.method],
    ['path', finding.target.path],
    ['route', finding.target.route],
    ['owasp', finding.rule.owasp],
    ['mitre', finding.rule.mitre_attack],
    ['firstSeen', finding.first_seen],
    ['lastSeen', finding.last_seen],
    ['action', finding.action?.type],
  ];
}

export function structuredData(finding: Finding, sdId: string): string {
  const params = sdParams(finding)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== '')
    .map(([name, value]) => `${name}="${escapeSdValue(String(value))}"`);
  return `[${sdId} ${params.join(' ')}]`;
}

/**
 * Builds an RFC 5424 header: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID`. The timestamp is the
 * finding's time in UTC with milliseconds, and the MSGID is the rule id.
 */
function rfc5424Header(finding: Finding, options: MessageOptions): string {
  return [
    `<${priority(options.facility, finding.severity)}>1`,
    finding.time,
    headerField(options.hostname, 255),
    headerField(options.appName, 48),
    headerField(options.procId, 128),
    headerField(finding.rule.id, 32),
  ].join(' ');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Builds an RFC 3164 header: `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PID]: `, with the time in UTC. */
function rfc3164Header(finding: Finding, options: MessageOptions): string {
  const time = new Date(finding.time);
  const day = String(time.getUTCDate()).padStart(2, ' ');
  const clock = [time.getUTCHours(), time.getUTCMinutes(), time.getUTCSeconds()].map((part) => String(part).padStart(2, '0')).join(':');
  const tag = `${headerField(options.appName, 32)}[${headerField(options.procId, 16)}]`;
  return `<${priority(options.facility, finding.severity)}>${MONTHS[time.getUTCMonth()]} ${day} ${clock} ${headerField(options.hostname, 255)} ${tag}:`;
}

/** Builds a whole RFC 5424 message: header, one structured-data element, and the summary as MSG. */
export function rfc5424Message(finding: Finding, options: MessageOptions): string {
  // MSG is sent without the UTF-8 byte order mark, which RFC 5424 allows (MSG-ANY) and which many receivers would show as text.
  return `${rfc5424Header(finding, options)} ${structuredData(finding, options.sdId)} ${oneLine(findingSummary(finding))}`;
}

/** Puts a CEF or LEEF record behind a syslog header: RFC 5424 with no structured data, or RFC 3164. */
export function withSyslogHeader(record: string, finding: Finding, header: 'rfc5424' | 'rfc3164', options: MessageOptions): string {
  if (header === 'rfc3164') return `${rfc3164Header(finding, options)} ${record}`;
  return `${rfc5424Header(finding, options)} - ${record}`;
}

/** Escapes a CEF header field: a backslash before `\` and `|`; line breaks become spaces. */
export function escapeCefHeader(value: string): string {
  return value.replace(/[\\|]/g, (character) => `\\${character}`).replace(/[\r\n]/g, ' ');
}

/** Escapes a CEF extension value: a backslash before `\` and `=`, and `\n` and `\r` for line breaks. */
export function escapeCefValue(value: string): string {
  return value.replace(/[\\=]/g, (character) => `\\${character}`).replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

/** Extension fields in the ArcSight CEF dictionary's names; IPv6 sources go to the `c6a2` custom field. */
function cefExtension(finding: Finding): [string, string | number | undefined][] {
  const address = finding.actor.address;
  const ipv6 = address?.includes(':');
  return [
    ['rt', Date.parse(finding.time)],
    ['start', Date.parse(finding.first_seen)],
    ['end', Date.parse(finding.last_seen)],
    ['cnt', finding.count],
    ['src', ipv6 ? undefined : address],
    ['c6a2', ipv6 ? address : undefined],
    ['c6a2Label', ipv6 ? 'Source IPv6 Address' : undefined],
    ['suser', finding.actor.identity],
    ['requestClientApplication', finding.actor.user_agent],
    ['requestMethod', finding.target.method],
    ['request', finding.target.path],
    ['dhost', finding.target.host],
    ['cat', finding.rule.owasp],
    ['act', finding.action?.type],
    ['externalId', finding.id],
    ['cs1Label', 'fingerprint'],
    ['cs1', finding.fingerprint],
    ['cs2Label', 'mitreTechnique'],
    ['cs2', finding.rule.mitre_attack],
    ['cs3Label', 'service'],
    ['cs3', finding.target.service],
    ['cs4Label', 'confidence'],
    ['cs4', finding.confidence],
    ['cs5Label', 'status'],
    ['cs5', finding.status],
    ['cs6Label', 'route'],
    ['cs6', finding.target.route],
    ['msg', findingSummary(finding)],
  ];
}

/** Builds a CEF record: `CEF:0|Vendor|Product|Version|Signature ID|Name|Severity|Extension`. */
export function cefRecord(finding: Finding, options: MessageOptions): string {
  const header = ['CEF:0', 'Watchpost', 'Watchpost', options.version, finding.rule.id, finding.rule.name, String(CEF_SEVERITY[finding.severity])];
  const present = cefExtension(finding).filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== '');
  // A label without its value is noise; drop `csNLabel` when `csN` is absent.
  const keys = new Set(present.map(([key]) => key));
  const extension = present
    .filter(([key]) => !key.endsWith('Label') || keys.has(key.slice(0, -'Label'.length)))
    .map(([key, value]) => `${key}=${escapeCefValue(String(value))}`)
    .join(' ');
  return `${header.map((field, index) => (index === 0 ? field : escapeCefHeader(field))).join('|')}|${extension}`;
}

/** The attribute delimiter of LEEF 2.0 records: a tab, named in the header as `x09`. */
const LEEF_DELIMITER = '\t';

/** Escapes a LEEF header field: a backslash before `\` and `|`; line breaks become spaces. */
export function escapeLeefHeader(value: string): string {
  return escapeCefHeader(value);
}

/**
 * Cleans a LEEF attribute value. LEEF defines no escape for the delimiter inside a value, so
 * tabs, carriage returns and line feeds become spaces.
 */
export function cleanLeefValue(value: string): string {
  return value.replace(/[\t\r\n]/g, ' ');
}

/** Attributes under LEEF's predefined keys where one exists (`devTime`, `sev`, `cat`, `src`, `usrName`) and plain names otherwise. */
function leefAttributes(finding: Finding): [string, string | number | undefined][] {
  return [
    ['devTime', finding.time],
    ['devTimeFormat', "yyyy-MM-dd'T'HH:mm:ss.SSSX"],
    ['sev', CEF_SEVERITY[finding.severity]],
    ['cat', finding.rule.owasp ?? finding.rule.id],
    ['src', finding.actor.address],
    ['usrName', finding.actor.identity],
    ['userAgent', finding.actor.user_agent],
    ['method', finding.target.method],
    ['url', finding.target.path],
    ['dstHost', finding.target.host],
    ['service', finding.target.service],
    ['route', finding.target.route],
    ['ruleName', finding.rule.name],
    ['mitreTechnique', finding.rule.mitre_attack],
    ['confidence', finding.confidence],
    ['status', finding.status],
    ['count', finding.count],
    ['findingId', finding.id],
    ['fingerprint', finding.fingerprint],
    ['action', finding.action?.type],
    ['msg', findingSummary(finding)],
  ];
}

/** Builds a LEEF 2.0 record: `LEEF:2.0|Vendor|Product|Version|EventID|x09|key=value<TAB>key=value`. */
export function leefRecord(finding: Finding, options: MessageOptions): string {
  const header = ['LEEF:2.0', 'Watchpost', 'Watchpost', escapeLeefHeader(options.version), escapeLeefHeader(finding.rule.id), 'x09'];
  const attributes = leefAttributes(finding)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== '')
    .map(([key, value]) => `${key}=${cleanLeefValue(String(value))}`)
    .join(LEEF_DELIMITER);
  return `${header.join('|')}|${attributes}`;
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
