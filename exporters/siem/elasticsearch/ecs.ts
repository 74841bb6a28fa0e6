import type { Finding, Severity } from '../../../core/data/finding.js';
import { findingSummary } from '../../helper/finding-text.js';

/** The ECS version the documents follow. */
export const ECS_VERSION = '8.11.0';

/**
 * Severity as a 0–100 risk score, with the values Elastic Security gives its own rule severities:
 * low 21, medium 47, high 73, critical 99. `info` is below all of them.
 */
const RISK_SCORE: Record<Severity, number> = { info: 0, low: 21, medium: 47, high: 73, critical: 99 };

/** Severity as a small integer in `event.severity`, 1 for info to 5 for critical. */
const SEVERITY_NUMBER: Record<Severity, number> = { info: 1, low: 2, medium: 3, high: 4, critical: 5 };

/**
 * Maps a finding to an Elastic Common Schema document: an `alert` event in the
 * `intrusion_detection` and `web` categories. The actor goes under `source` and `user`, the
 * target under `url`, `http` and `service`, and the rule under `rule` and `threat`. Everything
 * without an ECS field goes under `watchpost.finding`.
 */
export function ecsDocument(finding: Finding): Record<string, unknown> {
  const document: Record<string, unknown> = {
    '@timestamp': finding.time,
    message: findingSummary(finding),
    ecs: { version: ECS_VERSION },
    event: {
      kind: 'alert',
      category: ['intrusion_detection', 'web'],
      type: ['info'],
      id: finding.id,
      dataset: 'watchpost.findings',
      module: 'watchpost',
      severity: SEVERITY_NUMBER[finding.severity],
      risk_score: RISK_SCORE[finding.severity],
      start: finding.first_seen,
      end: finding.last_seen,
      reason: finding.rule.name,
    },
    rule: compact({ id: finding.rule.id, name: finding.rule.name, category: finding.rule.owasp, ruleset: 'watchpost' }),
    observer: { vendor: 'Watchpost', product: 'Watchpost', type: 'ids' },
    labels: { severity: finding.severity, confidence: finding.confidence, fingerprint: finding.fingerprint },
    watchpost: {
      finding: compact({
        fingerprint: finding.fingerprint,
        status: finding.status,
        confidence: finding.confidence,
        count: finding.count,
        key: finding.key,
        source: finding.source,
        evidence: finding.evidence,
        action: finding.action,
        api_key_fingerprint: finding.actor.api_key_fingerprint,
        route: finding.target.route,
      }),
    },
  };
  if (finding.rule.mitre_attack) document.threat = { framework: 'MITRE ATT&CK', technique: { id: [finding.rule.mitre_attack] } };
  if (finding.rule.tags) document.tags = finding.rule.tags;
  if (finding.actor.address) document.source = { ip: finding.actor.address, address: finding.actor.address };
  if (finding.actor.identity) document.user = { id: finding.actor.identity };
  if (finding.actor.user_agent) document.user_agent = { original: finding.actor.user_agent };
  if (finding.target.service) document.service = { name: finding.target.service };
  if (finding.target.method) document.http = { request: { method: finding.target.method } };
  const url = compact({ path: finding.target.path, domain: finding.target.host });
  if (Object.keys(url).length > 0) document.url = url;
  return document;
}

function compact<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}
