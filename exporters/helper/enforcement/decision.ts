/** What a decision applies to: a client address, a claimed identity, or an API key fingerprint. */
export type DecisionScope = 'ip' | 'identity' | 'api_key';

export const DECISION_SCOPES: readonly DecisionScope[] = ['ip', 'identity', 'api_key'];

/**
 * A decision to ban an actor for a while, made by the enforcement policy from a finding. Field
 * names follow CrowdSec's decisions where they mean the same thing (`scope`, `value`, `type`,
 * `origin`, `scenario`, `until`).
 */
export interface Decision {
  /** Increasing number per exporter, as CrowdSec numbers decisions. */
  id: number;
  /** Globally unique id, for webhook receivers that de-duplicate. */
  uuid: string;
  scope: DecisionScope;
  /** The banned address (normalized), identity or API key fingerprint. */
  value: string;
  type: 'ban';
  origin: 'watchpost';
  /** The rule id of the finding that led to the decision. */
  scenario: string;
  /** The rule name, for people. */
  reason: string;
  finding_id: string;
  fingerprint: string;
  severity: string;
  /** When the decision was made and when it ends, RFC 3339. */
  created_at: string;
  until: string;
  duration_seconds: number;
  /** 1 for a first ban of this value, 2 for the next within the repeat window, and so on. */
  offense: number;
  /** True when the policy runs in dry-run mode: the decision is recorded but not enforced. */
  dry_run: boolean;
}

/** A decision that ended, kept for a while so pulling bouncers learn of the removal. */
export interface ExpiredDecision extends Decision {
  expired_at: string;
}

export function decisionKey(scope: DecisionScope, value: string): string {
  return `${scope}:${value}`;
}
