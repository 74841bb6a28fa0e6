/**
 * A finding: what detection concluded about an actor, shaped after the OCSF Detection Finding
 * class (2004). The `file` exporter writes this object as it is, one per line; SIEM, alerting
 * and enforcement exporters map it to their formats.
 */
export interface Finding {
  /** Unique per emitted finding. */
  id: string;
  /** Stable for one rule and key (such as a client address), so receivers can de-duplicate. */
  fingerprint: string;
  /** The event time at which the finding was raised (or updated), RFC 3339, so replay and live agree. */
  time: string;
  /** `new` for the first emission of a fingerprint in a suppression period, `update` when repeats were counted after it. */
  status: 'new' | 'update';
  rule: FindingRule;
  severity: Severity;
  confidence: Confidence;
  actor: FindingActor;
  target: FindingTarget;
  /** The values the rule grouped by, such as `{ "client.address": "203.0.113.7" }`. */
  key: Record<string, string>;
  /** Matching events counted into this finding. */
  count: number;
  first_seen: string;
  last_seen: string;
  /** Up to five sample events, with secrets and personal data masked. */
  evidence: Evidence[];
  /** What an enforcement point could do about the actor. */
  action?: SuggestedAction;
  /**
   * The rule's suppression period in seconds: repeats for the same key within it are counted into
   * this finding rather than raising a new one. Alerting exporters resolve an alert when a whole
   * period passes without a new finding for its fingerprint.
   */
  suppress_seconds?: number;
  /** The detection processor that emitted the finding. */
  source: string;
}

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const CONFIDENCES = ['low', 'medium', 'high'] as const;
export type Confidence = (typeof CONFIDENCES)[number];

export interface FindingRule {
  id: string;
  name: string;
  /** OWASP API Security Top 10 (2023) category, such as `API2:2023`. */
  owasp?: string;
  /** MITRE ATT&CK technique id, such as `T1190`. */
  mitre_attack?: string;
  tags?: string[];
}

export interface FindingActor {
  address?: string;
  /** The user id or JWT subject, as the request claimed it; not verified. */
  identity?: string;
  /** A keyed hash of the API key, never the key itself. */
  api_key_fingerprint?: string;
  user_agent?: string;
}

export interface FindingTarget {
  service?: string;
  host?: string;
  method?: string;
  path?: string;
  route?: string;
}

export interface Evidence {
  time: string;
  trace_id?: string;
  span_id?: string;
  /** One line describing the request, such as `GET /search?q=<redacted> -> 200`. */
  summary: string;
  /** What the detectors found in it, such as `sqli: url.query:id: union select`. */
  detail?: string;
}

export interface SuggestedAction {
  type: 'ban_address' | 'ban_identity' | 'ban_api_key' | 'alert';
  /** How long a ban should last, in seconds. */
  duration_seconds?: number;
}

/** Orders severities so that thresholds such as `min_severity: high` can compare them. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}
