import type { Finding } from '../../core/data/finding.js';

/** Names the actor of a finding for people: its address, identity or API key fingerprint. */
export function actorText(finding: Finding): string {
  const actor = finding.actor;
  return actor.address ?? actor.identity ?? (actor.api_key_fingerprint ? `API key ${actor.api_key_fingerprint}` : 'an unknown actor');
}

/** Names the target of a finding for people, such as `GET /products on shop-api`. */
export function targetText(finding: Finding): string {
  const target = finding.target;
  const request = [target.method, target.route ?? target.path].filter(Boolean).join(' ');
  const where = target.service ?? target.host;
  if (request && where) return `${request} on ${where}`;
  return request || where || 'an unknown target';
}

/** A one-line summary, such as `SQL injection in a request (high) from 203.0.113.7 on GET /products on shop-api`. */
export function findingSummary(finding: Finding): string {
  const repeats = finding.count > 1 ? `, ${finding.count} events` : '';
  return `${finding.rule.name} (${finding.severity}${repeats}) from ${actorText(finding)} on ${targetText(finding)}`;
}

/** The context templates render against: the finding's own fields plus `summary`, `actor_text` and `target_text`. */
export function templateContext(finding: Finding): Record<string, unknown> {
  return { ...finding, summary: findingSummary(finding), actor_text: actorText(finding), target_text: targetText(finding) };
}

/** Cuts text to at most `max` characters, ending with an ellipsis when it was cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}
