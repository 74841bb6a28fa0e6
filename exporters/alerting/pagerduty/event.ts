import type { Finding, Severity } from '../../../core/data/finding.js';
import { templateContext, truncate } from '../../helper/finding-text.js';
import { renderTemplate } from '../../helper/template.js';
import type { PagerDutyExporterConfig } from './config.js';

/** PagerDuty's four severities: critical findings are `critical`, high `error`, medium `warning`, the rest `info`. */
const PAGERDUTY_SEVERITY: Record<Severity, string> = { critical: 'critical', high: 'error', medium: 'warning', low: 'info', info: 'info' };

/**
 * Builds an Events API v2 `trigger` event. The `dedup_key` is the finding's fingerprint (32 hex
 * characters, within PagerDuty's 255), so every finding for one rule and key lands on the same
 * alert, and the `resolve` sent after the quiet period closes it.
 */
export function triggerEvent(finding: Finding, config: PagerDutyExporterConfig, fallbackSource: string): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    summary: truncate(String(renderTemplate(config.summary, templateContext(finding))), 1024),
    source: config.source || finding.target.service || finding.target.host || fallbackSource,
    severity: PAGERDUTY_SEVERITY[finding.severity],
    timestamp: finding.time,
    class: finding.rule.id,
    custom_details: {
      rule: finding.rule.name,
      rule_id: finding.rule.id,
      owasp: finding.rule.owasp,
      mitre_attack: finding.rule.mitre_attack,
      severity: finding.severity,
      confidence: finding.confidence,
      status: finding.status,
      actor: finding.actor,
      target: finding.target,
      count: finding.count,
      first_seen: finding.first_seen,
      last_seen: finding.last_seen,
      evidence: finding.evidence.map((evidence) => evidence.detail ? `${evidence.summary} (${evidence.detail})` : evidence.summary),
      finding_id: finding.id,
      suggested_action: finding.action,
    },
  };
  if (config.component) payload.component = config.component;
  if (config.group) payload.group = config.group;
  const event: Record<string, unknown> = {
    routing_key: config.routing_key,
    event_action: 'trigger',
    dedup_key: finding.fingerprint,
    payload,
  };
  if (config.client) event.client = config.client;
  if (config.client_url) event.client_url = config.client_url;
  return event;
}

export function resolveEvent(fingerprint: string, routingKey: string): Record<string, unknown> {
  return { routing_key: routingKey, event_action: 'resolve', dedup_key: fingerprint };
}
