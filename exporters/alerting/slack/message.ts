import type { Finding } from '../../../core/data/finding.js';
import { actorText, targetText, templateContext, truncate } from '../../helper/finding-text.js';
import { renderTemplate } from '../../helper/template.js';

/**
 * Escapes text for Slack's mrkdwn: Slack reads `&`, `<` and `>` as control characters (for links
 * and mentions such as `<!channel>`), so they are sent as `&amp;`, `&lt;` and `&gt;`. Paths and
 * identities come from attackers, so every value goes through this.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const SEVERITY_MARK: Record<Finding['severity'], string> = {
  critical: ':red_circle:',
  high: ':large_orange_circle:',
  medium: ':large_yellow_circle:',
  low: ':large_blue_circle:',
  info: ':white_circle:',
};

/** Builds a section field: a bold label over a value, escaped and cut to Slack's 2000-character field limit. */
function field(label: string, value: string): Record<string, string> {
  return { type: 'mrkdwn', text: truncate(`*${escapeMrkdwn(label)}*\n${escapeMrkdwn(value)}`, 2000) };
}

/**
 * Builds an incoming-webhook payload. `text` serves notifications and clients without blocks. The
 * Block Kit blocks hold a header (plain text, at most 150 characters), the main facts as section
 * fields (at most 10), the first evidence sample, and the ids as context.
 */
export function slackMessage(finding: Finding, textTemplate: string): Record<string, unknown> {
  const text = truncate(escapeMrkdwn(String(renderTemplate(textTemplate, templateContext(finding)))), 3000);
  const fields = [
    field('Severity', `${finding.severity} (confidence ${finding.confidence})`),
    field('Actor', actorText(finding)),
    field('Target', targetText(finding)),
    field('Events', `${finding.count} from ${finding.first_seen} to ${finding.last_seen}`),
  ];
  if (finding.rule.owasp) fields.push(field('OWASP', finding.rule.owasp));
  if (finding.rule.mitre_attack) fields.push(field('MITRE ATT&CK', finding.rule.mitre_attack));
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`${finding.status === 'update' ? 'Update: ' : ''}${finding.rule.name}`, 150) } },
    // A section's text takes at most 3000 characters, the severity mark included.
    { type: 'section', text: { type: 'mrkdwn', text: truncate(`${SEVERITY_MARK[finding.severity]} ${text}`, 3000) }, fields },
  ];
  const sample = finding.evidence[0];
  if (sample) {
    const detail = sample.detail ? `\n${sample.detail}` : '';
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(`*Evidence*\n\`\`\`${escapeMrkdwn(`${sample.summary}${detail}`)}\`\`\``, 3000) } });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(`rule ${finding.rule.id} · fingerprint ${finding.fingerprint} · finding ${finding.id}`) }] });
  return { text, blocks };
}
