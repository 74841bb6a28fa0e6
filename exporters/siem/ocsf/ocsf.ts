import type { Confidence, Finding, Severity } from '../../../core/data/finding.js';
import { findingSummary } from '../../helper/finding-text.js';

/** The OCSF schema version the events follow. */
export const OCSF_VERSION = '1.3.0';

const CLASS_UID = 2004;
const CATEGORY_UID = 2;

/** OCSF severity_id values: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical. */
const SEVERITY: Record<Severity, [number, string]> = {
  info: [1, 'Informational'],
  low: [2, 'Low'],
  medium: [3, 'Medium'],
  high: [4, 'High'],
  critical: [5, 'Critical'],
};

/** OCSF confidence_id values: 1 Low, 2 Medium, 3 High. */
const CONFIDENCE: Record<Confidence, [number, string]> = { low: [1, 'Low'], medium: [2, 'Medium'], high: [3, 'High'] };

/**
 * Maps a finding to an OCSF Detection Finding event (class 2004, category 2 Findings). A `new`
 * finding is activity 1 (Create) and an `update` activity 2 (Update), so `type_uid` is 200401 or
 * 200402. Both carry the same `finding_info.uid`, made of the fingerprint and the first-seen
 * time, so a consumer joins an update to the finding it updates. `metadata.uid` is the id of
 * this one event. Fields without an OCSF attribute go under `unmapped`.
 */
export function detectionFinding(finding: Finding, productVersion: string): Record<string, unknown> {
  const activity: [number, string] = finding.status === 'update' ? [2, 'Update'] : [1, 'Create'];
  const [severityId, severity] = SEVERITY[finding.severity];
  const [confidenceId, confidence] = CONFIDENCE[finding.confidence];
  const event: Record<string, unknown> = {
    class_uid: CLASS_UID,
    class_name: 'Detection Finding',
    category_uid: CATEGORY_UID,
    category_name: 'Findings',
    activity_id: activity[0],
    activity_name: activity[1],
    type_uid: CLASS_UID * 100 + activity[0],
    type_name: `Detection Finding: ${activity[1]}`,
    time: Date.parse(finding.time),
    severity_id: severityId,
    severity,
    confidence_id: confidenceId,
    confidence,
    status_id: 1,
    status: 'New',
    is_alert: true,
    message: findingSummary(finding),
    count: finding.count,
    start_time: Date.parse(finding.first_seen),
    end_time: Date.parse(finding.last_seen),
    metadata: {
      version: OCSF_VERSION,
      uid: finding.id,
      correlation_uid: finding.fingerprint,
      event_code: finding.rule.id,
      product: { name: 'Watchpost', vendor_name: 'Watchpost', version: productVersion },
    },
    finding_info: findingInfo(finding),
    evidences: finding.evidence.map((evidence) => evidenceArtifact(finding, evidence)),
    unmapped: { fingerprint: finding.fingerprint, key: finding.key, source: finding.source, status: finding.status },
  };
  const resource = resourceOf(finding);
  if (resource) event.resources = [resource];
  if (finding.action) event.remediation = { desc: `${finding.action.type}${finding.action.duration_seconds ? ` for ${finding.action.duration_seconds} s` : ''}` };
  return event;
}

function findingInfo(finding: Finding): Record<string, unknown> {
  const info: Record<string, unknown> = {
    uid: `${finding.fingerprint}-${Date.parse(finding.first_seen)}`,
    title: finding.rule.name,
    desc: findingSummary(finding),
    created_time: Date.parse(finding.time),
    first_seen_time: Date.parse(finding.first_seen),
    last_seen_time: Date.parse(finding.last_seen),
    analytic: { uid: finding.rule.id, name: finding.rule.name, type_id: 1, type: 'Rule' },
  };
  const types = [finding.rule.owasp, ...(finding.rule.tags ?? [])].filter((type): type is string => Boolean(type));
  if (types.length > 0) info.types = types;
  if (finding.rule.mitre_attack) info.attacks = [{ technique: { uid: finding.rule.mitre_attack } }];
  return info;
}

function evidenceArtifact(finding: Finding, evidence: Finding['evidence'][number]): Record<string, unknown> {
  const artifact: Record<string, unknown> = {
    data: { time: evidence.time, summary: evidence.summary, detail: evidence.detail, trace_id: evidence.trace_id, span_id: evidence.span_id },
  };
  if (finding.actor.address) artifact.src_endpoint = { ip: finding.actor.address };
  if (finding.actor.identity) artifact.actor = { user: { uid: finding.actor.identity } };
  const request: Record<string, unknown> = {};
  if (finding.target.method) request.http_method = finding.target.method;
  if (finding.target.path || finding.target.host) request.url = { path: finding.target.path, hostname: finding.target.host };
  if (finding.actor.user_agent) request.user_agent = finding.actor.user_agent;
  if (Object.keys(request).length > 0) artifact.http_request = request;
  return artifact;
}

function resourceOf(finding: Finding): Record<string, unknown> | undefined {
  const name = finding.target.service ?? finding.target.host;
  if (!name && !finding.target.route) return undefined;
  return { type: 'API', name, uid: finding.target.route ?? finding.target.path, hostname: finding.target.host };
}
