import type { Finding } from '../../../core/data/finding.js';
import { findingSummary } from '../../helper/finding-text.js';

/** The metadata every HEC event of one exporter carries. */
export interface HecMetadata {
  host: string;
  source: string;
  sourcetype: string;
  /** Empty leaves the field out, so the token's default index applies. */
  index: string;
}

/**
 * Builds one event for the HEC event endpoint: `time` in epoch seconds with millisecond
 * decimals, the metadata fields, the finding itself as `event`, and a few indexed `fields` that
 * searches filter on. HEC takes only flat string or string-list values in `fields`.
 */
export function hecEvent(finding: Finding, metadata: HecMetadata): Record<string, unknown> {
  const fields: Record<string, string> = {
    rule_id: finding.rule.id,
    severity: finding.severity,
    fingerprint: finding.fingerprint,
    status: finding.status,
  };
  if (finding.actor.address) fields.src = finding.actor.address;
  if (finding.actor.identity) fields.user = finding.actor.identity;
  if (finding.rule.owasp) fields.owasp = finding.rule.owasp;
  if (finding.rule.mitre_attack) fields.mitre_technique_id = finding.rule.mitre_attack;
  const event: Record<string, unknown> = {
    time: Date.parse(finding.time) / 1000,
    host: metadata.host,
    source: metadata.source,
    sourcetype: metadata.sourcetype,
    event: { ...finding, message: findingSummary(finding) },
    fields,
  };
  if (metadata.index) event.index = metadata.index;
  return event;
}

/**
 * Packs serialized events into request bodies of at most `maxBytes` each. HEC takes several
 * events in one body as JSON objects one after the other, without an enclosing array; a newline
 * separates them here for readability. An event larger than `maxBytes` goes alone.
 */
export function packEvents(events: string[], maxBytes: number): { body: string; count: number }[] {
  const bodies: { body: string; count: number }[] = [];
  let parts: string[] = [];
  let size = 0;
  for (const event of events) {
    const length = Buffer.byteLength(event) + 1;
    if (parts.length > 0 && size + length > maxBytes) {
      bodies.push({ body: parts.join('\n'), count: parts.length });
      parts = [];
      size = 0;
    }
    parts.push(event);
    size += length;
  }
  if (parts.length > 0) bodies.push({ body: parts.join('\n'), count: parts.length });
  return bodies;
}
