import type { PolicyConfig, TailSamplingConfig } from './config.js';
import { defaultSecurityConfig } from './config.js';

/*
 * What the worker stage evaluates on every span so the main thread never decodes a span: the
 * attribute conditions of string_attribute and numeric_attribute policies, the detection mark
 * attributes of security policies, and whether actors are needed. Policies hold indexes into
 * these lists.
 */

export type SpanPredicate =
  | { kind: 'string'; key: string; values: string[]; regex: boolean }
  | { kind: 'numeric'; key: string; min?: number; max?: number };

export interface GroupOptions {
  predicates: SpanPredicate[];
  /** Attributes whose presence on a span marks the trace as carrying a finding. */
  markAttributes: string[];
  /** Whether to read the client address and user identity of SERVER spans. */
  actors: boolean;
}

export interface CollectedPredicates {
  options: GroupOptions;
  /** The predicate index of each string_attribute and numeric_attribute policy. */
  indexOf: Map<PolicyConfig, number>;
}

function walk(policies: PolicyConfig[], visit: (policy: PolicyConfig) => void): void {
  for (const policy of policies) {
    visit(policy);
    if (policy.and) walk(policy.and.and_sub_policy, visit);
    if (policy.composite) walk(policy.composite.composite_sub_policy, visit);
  }
}

export function collectPredicates(config: TailSamplingConfig): CollectedPredicates {
  const options: GroupOptions = { predicates: [], markAttributes: [], actors: false };
  const indexOf = new Map<PolicyConfig, number>();
  walk(config.policies, (policy) => {
    if (policy.type === 'string_attribute' && policy.string_attribute) {
      const settings = policy.string_attribute;
      indexOf.set(policy, options.predicates.push({ kind: 'string', key: settings.key, values: settings.values, regex: settings.enabled_regex_matching === true }) - 1);
    } else if (policy.type === 'numeric_attribute' && policy.numeric_attribute) {
      const settings = policy.numeric_attribute;
      indexOf.set(policy, options.predicates.push({ kind: 'numeric', key: settings.key, min: settings.min_value, max: settings.max_value }) - 1);
    } else if (policy.type === 'security') {
      const settings = { ...defaultSecurityConfig(), ...policy.security };
      if (settings.mark_attribute && !options.markAttributes.includes(settings.mark_attribute)) options.markAttributes.push(settings.mark_attribute);
      options.actors = true;
    }
  });
  return { options, indexOf };
}
