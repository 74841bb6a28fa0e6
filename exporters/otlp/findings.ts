import type { Finding, Severity } from '../../core/data/finding.js';
import type { ExportLogsServiceRequest, ILogRecord } from '../../core/otlp/codec.js';
import { millisToNanos, toAnyValue, toAttributes, type AttributeValue } from '../../core/otlp/attributes.js';

/** OpenTelemetry severity numbers for finding severities: INFO, WARN, WARN2, ERROR and FATAL. */
const SEVERITY_NUMBERS: Record<Severity, number> = { info: 9, low: 13, medium: 14, high: 17, critical: 21 };

/** The `event_name` of every finding log record. */
export const FINDING_EVENT_NAME = 'watchpost.finding';

/**
 * Converts findings to one OTLP logs export request: a log record per finding, with the whole
 * finding as a map body, its time, severity and first evidence's trace context, and the fields
 * that backends filter on as attributes.
 */
export function findingsToLogs(findings: readonly Finding[], observedMs = Date.now()): ExportLogsServiceRequest {
  return {
    resourceLogs: [{
      resource: { attributes: toAttributes({ 'service.name': 'watchpost' }) },
      scopeLogs: [{
        scope: { name: 'watchpost.detection' },
        logRecords: findings.map((finding) => findingToLogRecord(finding, observedMs)),
      }],
    }],
  };
}

function findingToLogRecord(finding: Finding, observedMs: number): ILogRecord {
  const sample = finding.evidence[0];
  const time = Date.parse(finding.time);
  return {
    timeUnixNano: millisToNanos(Number.isNaN(time) ? observedMs : time),
    observedTimeUnixNano: millisToNanos(observedMs),
    severityNumber: SEVERITY_NUMBERS[finding.severity] ?? 0,
    severityText: finding.severity,
    eventName: FINDING_EVENT_NAME,
    // A JSON round trip leaves out the optional fields that are undefined.
    body: toAnyValue(JSON.parse(JSON.stringify(finding)) as AttributeValue),
    attributes: toAttributes({
      'watchpost.finding.id': finding.id,
      'watchpost.finding.fingerprint': finding.fingerprint,
      'watchpost.finding.status': finding.status,
      'watchpost.finding.count': finding.count,
      'watchpost.rule.id': finding.rule.id,
      'watchpost.rule.name': finding.rule.name,
      'client.address': finding.actor.address,
      'user.id': finding.actor.identity,
      'watchpost.target.service': finding.target.service,
      'http.request.method': finding.target.method,
      'http.route': finding.target.route,
      'url.path': finding.target.path,
    }),
    traceId: hexBytes(sample?.trace_id, 16),
    spanId: hexBytes(sample?.span_id, 8),
  };
}

/** Decodes a hex id of the expected length; anything else becomes an empty id. */
function hexBytes(hex: string | undefined, length: number): Uint8Array {
  if (!hex || hex.length !== length * 2 || !/^[0-9a-fA-F]+$/.test(hex)) return new Uint8Array(0);
  return Buffer.from(hex, 'hex');
}
