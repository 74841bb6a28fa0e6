import { createHmac } from 'node:crypto';
import type { Finding } from '../../core/data/finding.js';
import type { TelemetrySignal } from '../../core/data/signal.js';
import type { ExportLogsServiceRequest, ExportMetricsServiceRequest, ExportRequest, ExportTraceServiceRequest, IAnyValue, IKeyValue } from '../../core/otlp/codec.js';
import { compileSafeRegex, type SafeRegex } from '../helper/regex.js';
import type { Detector } from './config.js';
import { findAuthorizationCredentials, findCardNumbers, findEmails, findJwts, findSecretParameters, findUrlCredentials, type Range, type RedactionKind } from './scanners.js';

/** Redaction settings in a form that crosses to worker threads. */
export interface RedactionOptions {
  action: 'mask' | 'hash';
  maskText: string;
  hashKey: string;
  detectors: Detector[];
  blockedKeys: string[];
  allowedKeys: string[];
  blockedValues: string[];
  secretParameters: string[];
}

/** Parameter names whose values are secrets, lower-case with `-` written `_`. */
export const SECRET_PARAMETERS = [
  'password', 'passwd', 'pwd', 'pass', 'passphrase', 'secret', 'client_secret', 'token', 'access_token', 'refresh_token', 'id_token',
  'auth_token', 'api_key', 'apikey', 'access_key', 'secret_key', 'private_key', 'authorization', 'credentials', 'jwt',
  'session', 'sessionid', 'session_id', 'x_amz_signature', 'x_amz_security_token', 'signature',
];

/** Attribute keys (or their last dot-separated part) whose values are secrets, lower-case with `-` written `_`. */
export const SECRET_KEYS = [
  ...SECRET_PARAMETERS, 'cookie', 'set_cookie', 'proxy_authorization', 'x_api_key', 'x_auth_token', 'api_token',
];

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/-/g, '_');
}

export type RedactionCounts = Partial<Record<RedactionKind, number>>;

/**
 * Masks or hashes secrets and personal data in OTLP requests and findings, and counts what it
 * replaced by kind. Attribute values under secret keys are replaced whole; every other string
 * is scanned by the enabled detectors and the user's patterns.
 */
export class Redactor {
  counts: RedactionCounts = {};
  private readonly detectors: Set<Detector>;
  private readonly secretKeys: Set<string>;
  private readonly blockedKeys: Set<string>;
  private readonly allowedKeys: Set<string>;
  private readonly secretParameters: Set<string>;
  private readonly patterns: SafeRegex[];

  constructor(private readonly options: RedactionOptions) {
    this.detectors = new Set(options.detectors);
    this.secretKeys = new Set(this.detectors.has('secret_key') ? SECRET_KEYS : []);
    this.blockedKeys = new Set(options.blockedKeys.map(normalizeKey));
    this.allowedKeys = new Set(options.allowedKeys);
    this.secretParameters = new Set([...SECRET_PARAMETERS, ...options.secretParameters.map(normalizeKey)]);
    this.patterns = options.blockedValues.map((pattern) => compileSafeRegex(pattern)).filter((regex): regex is SafeRegex => typeof regex !== 'string');
  }

  /** Returns the counts since the last call and starts new ones. */
  takeCounts(): RedactionCounts {
    const counts = this.counts;
    this.counts = {};
    return counts;
  }

  /** Returns the text that replaces one secret value. */
  replacement(value: string): string {
    if (this.options.action === 'hash') return `hmac:${createHmac('sha256', this.options.hashKey).update(value).digest('hex').slice(0, 32)}`;
    return this.options.maskText;
  }

  /** Masks what the detectors and patterns find in free text. */
  text(value: string): string {
    if (value.length === 0 || value === this.options.maskText) return value;
    const ranges: Range[] = [];
    const detectors = this.detectors;
    if (detectors.has('bearer')) findAuthorizationCredentials(value, ranges);
    if (detectors.has('jwt')) findJwts(value, ranges);
    if (detectors.has('url_credentials')) findUrlCredentials(value, ranges);
    if (detectors.has('secret_parameter')) findSecretParameters(value, this.secretParameters, ranges);
    if (detectors.has('email')) findEmails(value, ranges);
    if (detectors.has('card_number')) findCardNumbers(value, ranges);
    let text = ranges.length > 0 ? this.apply(value, ranges) : value;
    for (const pattern of this.patterns) {
      text = pattern.replaceAll(text, (match) => {
        if (match === this.options.maskText || match.startsWith('hmac:')) return match;
        this.count('pattern');
        return this.replacement(match);
      });
    }
    return text;
  }

  /** Reports whether an attribute key names a secret as a whole. */
  isSecretKey(key: string): boolean {
    const normalized = normalizeKey(key);
    const last = normalized.slice(normalized.lastIndexOf('.') + 1);
    return this.secretKeys.has(last) || this.blockedKeys.has(normalized) || this.blockedKeys.has(last);
  }

  attributes(attributes: IKeyValue[] | null | undefined): void {
    if (!attributes) return;
    for (const attribute of attributes) {
      const key = attribute.key ?? '';
      if (this.allowedKeys.has(key) || !attribute.value) continue;
      if (this.isSecretKey(key)) this.replaceWhole(attribute);
      else this.anyValue(attribute.value);
    }
  }

  /** Scans strings inside a value: plain strings, arrays and key-value lists, whose secret keys are replaced whole. */
  anyValue(value: IAnyValue): void {
    if (typeof value.stringValue === 'string' && Object.hasOwn(value, 'stringValue')) {
      value.stringValue = this.text(value.stringValue);
    } else if (value.arrayValue) {
      for (const item of value.arrayValue.values ?? []) this.anyValue(item);
    } else if (value.kvlistValue) {
      this.attributes(value.kvlistValue.values);
    }
  }

  request(signal: TelemetrySignal, request: ExportRequest): void {
    if (signal === 'traces') this.traces(request as ExportTraceServiceRequest);
    else if (signal === 'logs') this.logs(request as ExportLogsServiceRequest);
    else this.metrics(request as ExportMetricsServiceRequest);
  }

  /** Redacts a finding's evidence, target path, key values and user agent in place; the actor's address and identity stay, because enforcement needs them. */
  finding(finding: Finding): void {
    for (const evidence of finding.evidence) {
      evidence.summary = this.text(evidence.summary);
      if (evidence.detail) evidence.detail = this.text(evidence.detail);
    }
    if (finding.target.path) finding.target.path = this.text(finding.target.path);
    if (finding.actor.user_agent) finding.actor.user_agent = this.text(finding.actor.user_agent);
    for (const [key, value] of Object.entries(finding.key)) {
      finding.key[key] = this.isSecretKey(key) ? this.replaceSecret(value) : this.text(value);
    }
  }

  private traces(request: ExportTraceServiceRequest): void {
    for (const resource of request.resourceSpans ?? []) {
      this.attributes(resource.resource?.attributes);
      for (const scope of resource.scopeSpans ?? []) {
        this.attributes(scope.scope?.attributes);
        for (const span of scope.spans ?? []) {
          this.attributes(span.attributes);
          for (const event of span.events ?? []) this.attributes(event.attributes);
          for (const link of span.links ?? []) this.attributes(link.attributes);
          if (span.status?.message) span.status.message = this.text(span.status.message);
        }
      }
    }
  }

  private logs(request: ExportLogsServiceRequest): void {
    for (const resource of request.resourceLogs ?? []) {
      this.attributes(resource.resource?.attributes);
      for (const scope of resource.scopeLogs ?? []) {
        this.attributes(scope.scope?.attributes);
        for (const record of scope.logRecords ?? []) {
          this.attributes(record.attributes);
          if (record.body) this.anyValue(record.body);
        }
      }
    }
  }

  private metrics(request: ExportMetricsServiceRequest): void {
    for (const resource of request.resourceMetrics ?? []) {
      this.attributes(resource.resource?.attributes);
      for (const scope of resource.scopeMetrics ?? []) {
        this.attributes(scope.scope?.attributes);
        for (const metric of scope.metrics ?? []) {
          const data = metric.gauge ?? metric.sum ?? metric.histogram ?? metric.exponentialHistogram ?? metric.summary;
          for (const point of (data?.dataPoints ?? []) as { attributes?: IKeyValue[] | null; exemplars?: { filteredAttributes?: IKeyValue[] | null }[] | null }[]) {
            this.attributes(point.attributes);
            for (const exemplar of point.exemplars ?? []) this.attributes(exemplar.filteredAttributes);
          }
        }
      }
    }
  }

  private replaceWhole(attribute: IKeyValue): void {
    const value = attribute.value as IAnyValue;
    if (value.arrayValue) {
      // Header attributes are string arrays, one item per header line.
      for (const item of value.arrayValue.values ?? []) {
        if (typeof item.stringValue === 'string' && item.stringValue !== '') item.stringValue = this.replaceSecret(item.stringValue);
      }
      return;
    }
    const text = typeof value.stringValue === 'string' ? value.stringValue : JSON.stringify(value);
    if (text === '' || text === this.options.maskText) return;
    attribute.value = { stringValue: this.replaceSecret(text) };
  }

  private replaceSecret(value: string): string {
    if (value === this.options.maskText || value.startsWith('hmac:')) return value;
    this.count('secret_key');
    return this.replacement(value);
  }

  private apply(text: string, ranges: Range[]): string {
    ranges.sort((a, b) => a.start - b.start || b.end - a.end);
    let output = '';
    let last = 0;
    for (const range of ranges) {
      if (range.start < last) continue;
      const secret = text.slice(range.start, range.end);
      if (secret === this.options.maskText || secret.startsWith('hmac:')) continue;
      output += text.slice(last, range.start) + this.replacement(secret);
      last = range.end;
      this.count(range.kind);
    }
    return output + text.slice(last);
  }

  private count(kind: RedactionKind): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }
}
