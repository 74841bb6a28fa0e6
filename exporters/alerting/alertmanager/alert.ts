import type { Finding } from '../../../core/data/finding.js';
import { actorText, findingSummary, targetText } from '../../helper/finding-text.js';
import type { AlertmanagerExporterConfig } from './config.js';

/**
 * Builds a postable alert for Alertmanager's `/api/v2/alerts`. Alertmanager identifies an alert
 * by its label set, so the labels hold the rule, the severity and the fingerprint, and a repeat
 * finding updates the same alert. `startsAt` is when the actor was first seen. `endsAt` is one
 * quiet period after now, so the alert resolves on its own when no further finding extends it.
 */
export function postableAlert(finding: Finding, config: AlertmanagerExporterConfig, quietMs: number, now = Date.now()): Record<string, unknown> {
  const labels: Record<string, string> = {
    ...config.labels,
    alertname: 'WatchpostFinding',
    rule: finding.rule.id,
    severity: finding.severity,
    fingerprint: finding.fingerprint,
  };
  if (finding.target.service) labels.service = finding.target.service;
  const annotations: Record<string, string> = {
    summary: findingSummary(finding),
    description: finding.evidence.map((sample) => `${sample.time} ${sample.summary}${sample.detail ? ` (${sample.detail})` : ''}`).join('\n'),
    rule_name: finding.rule.name,
    actor: actorText(finding),
    target: targetText(finding),
    count: String(finding.count),
    confidence: finding.confidence,
    finding_id: finding.id,
  };
  if (finding.rule.owasp) annotations.owasp = finding.rule.owasp;
  if (finding.rule.mitre_attack) annotations.mitre_attack = finding.rule.mitre_attack;
  const alert: Record<string, unknown> = {
    labels,
    annotations,
    startsAt: finding.first_seen,
    endsAt: new Date(now + quietMs).toISOString(),
  };
  if (config.generator_url) alert.generatorURL = config.generator_url;
  return alert;
}
