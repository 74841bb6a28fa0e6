import type { Finding, Severity } from '../../../core/data/finding.js';
import { actorText, findingSummary, targetText, templateContext, truncate } from '../../helper/finding-text.js';
import { renderTemplate } from '../../helper/template.js';
import type { OpsgenieExporterConfig } from './config.js';

/** Opsgenie priorities, P1 (highest) to P5, one per finding severity. */
const PRIORITY: Record<Severity, string> = { critical: 'P1', high: 'P2', medium: 'P3', low: 'P4', info: 'P5' };

/**
 * Builds a create-alert request. The `alias` is the finding's fingerprint, so Opsgenie counts
 * repeats into one open alert instead of opening new ones, and the close request finds it. Field
 * lengths stay within the Alert API's limits: message 130, alias 512, description 15000, entity
 * 512, source 100 characters; `details` values are strings.
 */
export function createAlert(finding: Finding, config: OpsgenieExporterConfig): Record<string, unknown> {
  const details: Record<string, string> = {
    rule_id: finding.rule.id,
    severity: finding.severity,
    confidence: finding.confidence,
    actor: actorText(finding),
    target: targetText(finding),
    count: String(finding.count),
    first_seen: finding.first_seen,
    last_seen: finding.last_seen,
    finding_id: finding.id,
  };
  if (finding.rule.owasp) details.owasp = finding.rule.owasp;
  if (finding.rule.mitre_attack) details.mitre_attack = finding.rule.mitre_attack;
  const evidence = finding.evidence.map((sample) => `- ${sample.time} ${sample.summary}${sample.detail ? ` (${sample.detail})` : ''}`).join('\n');
  return {
    message: truncate(String(renderTemplate(config.message, templateContext(finding))), 130),
    alias: finding.fingerprint,
    description: truncate(`${findingSummary(finding)}\n\nEvidence:\n${evidence}`, 15_000),
    tags: [...new Set([...config.tags, finding.rule.id, finding.severity])],
    details,
    entity: truncate(targetText(finding), 512),
    source: truncate(config.source, 100),
    priority: PRIORITY[finding.severity],
  };
}

export function closeAlert(config: OpsgenieExporterConfig, summary: string): Record<string, unknown> {
  return { source: truncate(config.source, 100), note: truncate(`No new findings during the quiet period; last: ${summary}`, 25_000) };
}
