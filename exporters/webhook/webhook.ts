import type { CreateSettings } from '../../core/component.js';
import type { Batch } from '../../core/data/batch.js';
import type { Finding } from '../../core/data/finding.js';
import { RateLimiter, sendEach, severityFilter } from '../helper/alerting.js';
import { Enforcer } from '../helper/enforcement/enforcer.js';
import type { Decision } from '../helper/enforcement/decision.js';
import { templateContext } from '../helper/finding-text.js';
import { HttpClient } from '../helper/http.js';
import { QueuedExporter, type SendContext } from '../helper/sender.js';
import { renderFields } from '../helper/template.js';
import { messageId, signedHeaders, signingKey } from '../helper/webhook-signature.js';
import type { WebhookExporterConfig } from './config.js';

/** One request body with the ids of what it carries, which make its `webhook-id`, and the findings it came from. */
interface Message {
  ids: string[];
  body: string;
  findings: Finding[];
}

/**
 * POSTs findings, or the ban decisions the enforcement policy makes from them, as JSON. Each
 * request may be signed as Standard Webhooks define, with a `webhook-id` that stays the same
 * across retries and restarts so that receivers can de-duplicate.
 */
export function createWebhookExporter(settings: CreateSettings<WebhookExporterConfig>): QueuedExporter {
  const { config } = settings;
  const client = new HttpClient({ tls: config.tls });
  const key = config.secret ? signingKey(config.secret) : undefined;
  const enforcer = config.payload === 'decision'
    ? new Enforcer({ id: settings.id, policy: config.policy, storage: settings.storage, logger: settings.logger, metrics: settings.metrics })
    : undefined;
  const limiter = new RateLimiter(config.rate_limit);

  const post = async (message: Message, signal: AbortSignal): Promise<void> => {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'watchpost', ...config.headers };
    if (key) Object.assign(headers, signedHeaders(key, messageId(message.ids), message.body));
    await client.send(config.endpoint, { method: 'POST', headers, body: message.body, signal });
  };

  const send = async (batch: Batch, signal: AbortSignal, context: SendContext): Promise<void> => {
    if (batch.signal !== 'findings') return;
    const messages = enforcer ? decisionMessages(await enforcer.apply(batch.findings), batch.findings, config) : findingMessages(batch.findings, config);
    await sendEach(messages.map((message) => ({ findings: message.findings, send: (abort) => post(message, abort) })), signal, context, batch.origin);
  };

  return new QueuedExporter({
    id: settings.id,
    config,
    logger: settings.logger,
    metrics: settings.metrics,
    storage: settings.storage,
    send,
    accept: severityFilter(config.min_severity),
    beforeSend: limiter.hook(),
    onStart: async () => enforcer?.start(),
    onShutdown: async () => {
      await enforcer?.stop();
      client.close();
    },
  });
}

function findingMessages(findings: readonly Finding[], config: WebhookExporterConfig): Message[] {
  const templated = Object.keys(config.fields).length > 0;
  const bodyOf = (finding: Finding): unknown => (templated ? renderFields(config.fields, templateContext(finding)) : finding);
  if (config.json_array) return [{ ids: findings.map((finding) => finding.id), body: JSON.stringify(findings.map(bodyOf)), findings: [...findings] }];
  return findings.map((finding) => ({ ids: [finding.id], body: JSON.stringify(bodyOf(finding)), findings: [finding] }));
}

/** Decision events in the payload shape Standard Webhooks recommend: `type`, `timestamp` and `data`. */
function decisionMessages(decisions: Decision[], findings: readonly Finding[], config: WebhookExporterConfig): Message[] {
  // Dry-run decisions are recorded by the enforcer and never sent.
  const live = decisions.filter((decision) => !decision.dry_run);
  const eventOf = (decision: Decision) => ({ type: 'watchpost.decision.created', timestamp: decision.created_at, data: decision });
  const sourceOf = (decision: Decision) => findings.filter((finding) => finding.id === decision.finding_id);
  if (live.length === 0) return [];
  if (config.json_array) return [{ ids: live.map((decision) => decision.uuid), body: JSON.stringify(live.map(eventOf)), findings: live.flatMap(sourceOf) }];
  return live.map((decision) => ({ ids: [decision.uuid], body: JSON.stringify(eventOf(decision)), findings: sourceOf(decision) }));
}

