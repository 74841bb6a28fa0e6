import { randomUUID } from 'node:crypto';
import { CONFIDENCES, SEVERITIES, severityRank, type Confidence, type Finding, type Severity } from '../../../core/data/finding.js';
import { boolean, duration, list, number, object, string } from '../../../core/config/schema.js';
import { inAnyCidr, parseAddress, parseCidr, type Cidr } from '../../../core/cidr.js';
import { DECISION_SCOPES, type Decision, type DecisionScope } from './decision.js';
import { globMatch } from './glob.js';

/** How findings become decisions. Every enforcement exporter has its own policy. */
export interface PolicyConfig {
  /** Records decisions (in lmdb, logs and metrics) without enforcing them. Default false. */
  dry_run: boolean;
  /** Findings below this severity lead to no decision. Default `high`. */
  min_severity: Severity;
  /** Findings below this confidence lead to no decision. Default `medium`. */
  min_confidence: Confidence;
  /** Actor scopes this policy may ban. Default `[ip]`. */
  scopes: DecisionScope[];
  /** Ban length when the finding suggests none, in milliseconds. Default 4 h. */
  ban_duration: number;
  /** Each repeat ban of the same value within `repeat_window` lasts this many times longer. Default 2. */
  repeat_multiplier: number;
  /** The longest ban, in milliseconds. Default 7 days. */
  max_duration: number;
  /** How long an earlier ban counts as a previous offense, in milliseconds. Default 24 h. */
  repeat_window: number;
  allow: AllowConfig;
}

/** Actors and routes that are never banned, whatever the findings say. */
export interface AllowConfig {
  /** Address ranges, such as `10.0.0.0/8` or `2001:db8::/32`. Default: loopback (`127.0.0.0/8`, `::1/128`). */
  cidrs: string[];
  /** Identities (user ids or JWT subjects) compared exactly. */
  identities: string[];
  /** Route templates or paths, where `*` matches any characters, such as `/health*`. */
  routes: string[];
}

export function defaultPolicyConfig(): PolicyConfig {
  return {
    dry_run: false,
    min_severity: 'high',
    min_confidence: 'medium',
    scopes: ['ip'],
    ban_duration: 4 * 3_600_000,
    repeat_multiplier: 2,
    max_duration: 7 * 86_400_000,
    repeat_window: 86_400_000,
    allow: { cidrs: ['127.0.0.0/8', '::1/128'], identities: [], routes: [] },
  };
}

export const policySchema = object({
  dry_run: boolean(),
  min_severity: string({ enum: SEVERITIES }),
  min_confidence: string({ enum: CONFIDENCES }),
  scopes: list(string({ enum: DECISION_SCOPES }), { minItems: 1 }),
  ban_duration: duration({ min: 1000 }),
  repeat_multiplier: number({ min: 1 }),
  max_duration: duration({ min: 1000 }),
  repeat_window: duration({ min: 0 }),
  allow: object({
    cidrs: list(string({ check: (text) => (parseCidr(text) ? undefined : `must be an address or CIDR range such as 10.0.0.0/8, got ${JSON.stringify(text)}`) })),
    identities: list(string()),
    routes: list(string()),
  }),
});

/** Cross-field checks of a policy, for an exporter factory's `validate`. */
export function validatePolicy(policy: PolicyConfig, report: (message: string, path?: string) => void): void {
  if (policy.max_duration < policy.ban_duration) {
    report(`policy.max_duration (${policy.max_duration} ms) must be at least policy.ban_duration (${policy.ban_duration} ms)`, 'policy.max_duration');
  }
}

/** Previous bans of one value, which make the next one longer. */
export interface OffenseHistory {
  /** Bans within the repeat window so far. */
  count: number;
  /** When the last ban was made, in milliseconds since the epoch. */
  last_at: number;
  /** Event time of the finding behind the last ban; absent in history saved by older versions. */
  event_at?: number;
}

/** Why a finding led to no decision, for the `watchpost_enforcement_skipped_total` metric. */
export type SkipReason = 'below_min_severity' | 'below_min_confidence' | 'alert_only' | 'no_actor' | 'allow_listed' | 'scope_disabled' | 'invalid_address';

export type PolicyResult = { decision: Omit<Decision, 'id'> } | { skipped: SkipReason };

/**
 * The enforcement policy: turns a finding into a ban decision, or says why not. Allow-lists win
 * over everything. The scope follows the finding's suggested action (`ban_address`,
 * `ban_identity`, `ban_api_key`); without one, the first scope in `scopes` that the actor has is
 * banned. A finding that suggests only an alert leads to no decision.
 */
export class EnforcementPolicy {
  private readonly allowCidrs: Cidr[];
  private readonly allowIdentities: Set<string>;

  constructor(private readonly config: PolicyConfig) {
    this.allowCidrs = config.allow.cidrs.map((text) => parseCidr(text)).filter((cidr): cidr is Cidr => cidr !== undefined);
    this.allowIdentities = new Set(config.allow.identities);
  }

  get dryRun(): boolean {
    return this.config.dry_run;
  }

  /** Decides on one finding; `history` returns the earlier bans of a scope and value. */
  decide(finding: Finding, history: (scope: DecisionScope, value: string) => OffenseHistory | undefined, now = Date.now()): PolicyResult {
    if (this.isAllowListed(finding)) return { skipped: 'allow_listed' };
    if (severityRank(finding.severity) < severityRank(this.config.min_severity)) return { skipped: 'below_min_severity' };
    if (CONFIDENCES.indexOf(finding.confidence) < CONFIDENCES.indexOf(this.config.min_confidence)) return { skipped: 'below_min_confidence' };
    if (finding.action?.type === 'alert') return { skipped: 'alert_only' };

    const target = this.target(finding);
    if ('skipped' in target) return target;
    const previous = history(target.scope, target.value);
    let offenses = previous && now - previous.last_at <= this.config.repeat_window ? previous.count : 0;
    // A finding from events no later than those behind the last ban, such as a second rule that
    // matched the same request, is part of that offense, not a repeat.
    if (offenses > 0 && previous?.event_at !== undefined && Date.parse(finding.time) <= previous.event_at) offenses--;
    const base = finding.action?.duration_seconds ? finding.action.duration_seconds * 1000 : this.config.ban_duration;
    const length = Math.min(base * this.config.repeat_multiplier ** offenses, this.config.max_duration);
    return {
      decision: {
        uuid: randomUUID(),
        scope: target.scope,
        value: target.value,
        type: 'ban',
        origin: 'watchpost',
        scenario: finding.rule.id,
        reason: finding.rule.name,
        finding_id: finding.id,
        fingerprint: finding.fingerprint,
        severity: finding.severity,
        created_at: new Date(now).toISOString(),
        until: new Date(now + length).toISOString(),
        duration_seconds: Math.round(length / 1000),
        offense: offenses + 1,
        dry_run: this.config.dry_run,
      },
    };
  }

  private isAllowListed(finding: Finding): boolean {
    if (inAnyCidr(this.allowCidrs, finding.actor.address)) return true;
    if (finding.actor.identity !== undefined && this.allowIdentities.has(finding.actor.identity)) return true;
    const { route, path } = finding.target;
    return this.config.allow.routes.some((pattern) => (route !== undefined && globMatch(pattern, route)) || (path !== undefined && globMatch(pattern, path)));
  }

  private target(finding: Finding): { scope: DecisionScope; value: string } | { skipped: SkipReason } {
    const suggested = suggestedScope(finding);
    const candidates = suggested ? [suggested] : this.config.scopes;
    for (const scope of candidates) {
      if (!this.config.scopes.includes(scope)) return { skipped: 'scope_disabled' };
      const value = actorValue(finding, scope);
      if (value === undefined) continue;
      if (scope !== 'ip') return { scope, value };
      const address = normalizeAddress(value);
      return address ? { scope, value: address } : { skipped: 'invalid_address' };
    }
    return { skipped: 'no_actor' };
  }
}

function suggestedScope(finding: Finding): DecisionScope | undefined {
  switch (finding.action?.type) {
    case 'ban_address': return 'ip';
    case 'ban_identity': return 'identity';
    case 'ban_api_key': return 'api_key';
    default: return undefined;
  }
}

function actorValue(finding: Finding, scope: DecisionScope): string | undefined {
  if (scope === 'ip') return finding.actor.address;
  if (scope === 'identity') return finding.actor.identity;
  return finding.actor.api_key_fingerprint;
}

/** Returns the canonical text of an address (IPv4-mapped IPv6 as IPv4, IPv6 compressed), or undefined when it is not one. */
export function normalizeAddress(text: string): string | undefined {
  const bytes = parseAddress(text);
  if (!bytes) return undefined;
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return compressIpv6(groups);
}

/** Writes IPv6 groups in the RFC 5952 form: the longest run of two or more zero groups becomes `::`. */
function compressIpv6(groups: string[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}
