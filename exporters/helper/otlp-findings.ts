import { FindingsBatch, OtlpBatch } from '../../core/data/batch.js';
import type { Finding, Severity } from '../../core/data/finding.js';
import type { ExportLogsServiceRequest, ILogRecord } from '../../core/otlp/codec.js';
import { millisToNanos, toAnyValue, toAttributes, type AttributeValue } from '../../core/otlp/attributes.js';
import { findingSummary } from './finding-text.js';

/**
 * Findings as OTLP log records, for the `otlp` exporter and anything else that sends findings
 * over OTLP. Each finding becomes one log record:
 *
 * - `timeUnixNano` is the finding's time, `observedTimeUnixNano` the time of the conversion;
 * - `severityNumber` follows the OpenTelemetry log data model ranges (INFO 9, WARN 13, WARN2 14,
 *   ERROR 17, FATAL 21) and `severityText` is the finding's own severity word;
 * - `eventName` is `watchpost.finding`, and the body is the whole finding as a map, so a backend
 *   keeps every field; the one-line summary is the `watchpost.finding.summary` attribute;
 * - `traceId` and `spanId` are those of the first evidence sample that has them, so a backend
 *   links the finding to the trace that triggered it;
 * - attributes use semantic-convention names where one exists (`client.address`, `user.id`,
 *   `user_agent.original`, `http.request.method`, `url.path`, `http.route`, `server.address`)
 *   and `watchpost.*` names for the rest.
 *
 * The resource carries `service.name: watchpost`; the scope is `watchpost.detection` with the
 * detection processor id as an attribute of each record (`watchpost.finding.source`). The `otlp`
 * exporter sends findings through this mapping.
 */

export const FINDING_EVENT_NAME = 'watchpost.finding';
export const FINDINGS_SCOPE_NAME = 'watchpost.detection';

const SEVERITY_NUMBER: Record<Severity, number> = {
  info: 9,
  low: 13,
  medium: 14,
  high: 17,
  critical: 21,
};

/** Converts one finding to an OTLP log record. */
export function findingToLogRecord(finding: Finding, now = Date.now()): ILogRecord {
  const sample = finding.evidence.find((evidence) => evidence.trace_id && evidence.span_id);
  const record: ILogRecord = {
    timeUnixNano: millisToNanos(Date.parse(finding.time)),
    observedTimeUnixNano: millisToNanos(now),
    severityNumber: SEVERITY_NUMBER[finding.severity],
    severityText: finding.severity,
    eventName: FINDING_EVENT_NAME,
    // A JSON round trip leaves out the optional fields that are undefined.
    body: toAnyValue(JSON.parse(JSON.stringify(finding)) as AttributeValue),
    attributes: toAttributes(findingAttributes(finding)),
  };
  if (sample?.trace_id && /^[0-9a-f]{32}$/.test(sample.trace_id)) record.traceId = Buffer.from(sample.trace_id, 'hex');
  if (sample?.span_id && /^[0-9a-f]{16}$/.test(sample.span_id)) record.spanId = Buffer.from(sample.span_id, 'hex');
  return record;
}

function findingAttributes(finding: Finding): Record<string, AttributeValue | undefined> {
  return {
    'watchpost.finding.id': finding.id,
    'watchpost.finding.summary': findingSummary(finding),
    'watchpost.finding.fingerprint': finding.fingerprint,
    'watchpost.finding.status': finding.status,
    'watchpost.finding.confidence': finding.confidence,
    'watchpost.finding.count': finding.count,
    'watchpost.finding.first_seen': finding.first_seen,
    'watchpost.finding.last_seen': finding.last_seen,
    'watchpost.finding.source': finding.source,
    'watchpost.finding.key': Object.keys(finding.key).length > 0 ? finding.key : undefined,
    'watchpost.rule.id': finding.rule.id,
    'watchpost.rule.name': finding.rule.name,
    'watchpost.rule.owasp': finding.rule.owasp,
    'watchpost.rule.mitre_attack': finding.rule.mitre_attack,
    'watchpost.rule.tags': finding.rule.tags,
    'client.address': finding.actor.address,
    'user.id': finding.actor.identity,
    'watchpost.actor.api_key_fingerprint': finding.actor.api_key_fingerprint,
    'user_agent.original': finding.actor.user_agent,
    'watchpost.target.service': finding.target.service,
    'server.address': finding.target.host,
    'http.request.method': finding.target.method,
    'url.path': finding.target.path,
    'http.route': finding.target.route,
    'watchpost.action.type': finding.action?.type,
    'watchpost.action.duration_seconds': finding.action?.duration_seconds,
    'watchpost.finding.evidence': finding.evidence.map((evidence) => ({
      time: evidence.time,
      summary: evidence.summary,
      ...(evidence.detail ? { detail: evidence.detail } : {}),
      ...(evidence.trace_id ? { trace_id: evidence.trace_id } : {}),
      ...(evidence.span_id ? { span_id: evidence.span_id } : {}),
    })),
  };
}

/** Converts findings to one OTLP logs export request. */
export function findingsToLogsRequest(findings: readonly Finding[], now = Date.now()): ExportLogsServiceRequest {
  return {
    resourceLogs: [{
      resource: { attributes: toAttributes({ 'service.name': 'watchpost' }) },
      scopeLogs: [{
        scope: { name: FINDINGS_SCOPE_NAME },
        logRecords: findings.map((finding) => findingToLogRecord(finding, now)),
      }],
    }],
  };
}

/** Converts a findings batch to a logs batch that any OTLP exporter can send. */
export function findingsToLogsBatch(batch: FindingsBatch, now = Date.now()): OtlpBatch {
  return OtlpBatch.fromMessage('logs', findingsToLogsRequest(batch.findings, now), batch.origin);
}
