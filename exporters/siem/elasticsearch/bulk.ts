import type { Finding } from '../../../core/data/finding.js';
import { ecsDocument } from './ecs.js';

/**
 * Builds a `_bulk` body: for each finding a `create` action line naming the index and the
 * finding id as `_id`, then the document, each line ending with a newline as the bulk API
 * requires. The fixed `_id` makes a document sent twice (after a retry or a restart) fail with
 * 409 instead of being stored twice.
 */
export function bulkBody(findings: readonly Finding[], index: string): string {
  let body = '';
  for (const finding of findings) {
    body += `${JSON.stringify({ create: { _index: index, _id: finding.id } })}\n${JSON.stringify(ecsDocument(finding))}\n`;
  }
  return body;
}

/** One item of a `_bulk` response, as Elasticsearch reports it under the action name. */
interface BulkItem {
  status?: number;
  error?: { type?: string; reason?: string };
}

/** The outcome of each item of a bulk response, by the index of the finding in the request. */
export interface BulkOutcome {
  /** Findings to send again: 429 and 5xx. */
  retry: number[];
  /** Findings rejected for good, such as 400 for a mapping conflict, with the first reason. */
  rejected: number[];
  firstReason?: string;
}

/**
 * Sorts the items of a bulk response. 2xx is stored. 409 means a document with that `_id`
 * exists, which here means it was delivered before, so it counts as stored too. 429 and 5xx are
 * retried, and every other status is rejected. A response whose `errors` flag is false is all
 * stored.
 */
export function readBulkResponse(text: string, expected: number): BulkOutcome {
  const response = JSON.parse(text) as { errors?: boolean; items?: Record<string, BulkItem>[] };
  const outcome: BulkOutcome = { retry: [], rejected: [] };
  if (response.errors === false) return outcome;
  const items = response.items ?? [];
  if (items.length !== expected) throw new Error(`bulk response lists ${items.length} items for ${expected} documents`);
  items.forEach((entry, index) => {
    const item = Object.values(entry)[0] ?? {};
    const status = item.status ?? 0;
    if ((status >= 200 && status < 300) || status === 409) return;
    if (status === 429 || status >= 500) outcome.retry.push(index);
    else {
      outcome.rejected.push(index);
      outcome.firstReason ??= `${status} ${item.error?.type ?? ''}: ${item.error?.reason ?? ''}`.trim();
    }
  });
  return outcome;
}
