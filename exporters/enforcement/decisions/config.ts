import { duration, integer, list, object, string } from '../../../core/config/schema.js';
import { defaultPolicyConfig, policySchema, validatePolicy, type PolicyConfig } from '../../helper/enforcement/policy.js';

export interface DecisionsExporterConfig {
  /**
   * API keys that bouncers send in `X-Api-Key`, one per bouncer, at least 16 characters each.
   * Required; never logged. Each key keeps its own last-pull time, as CrowdSec keeps one per
   * registered bouncer.
   */
  api_keys: string[];
  /**
   * A path prefix for the routes on the admin endpoint, such as `/crowdsec`, so that more than one
   * decisions exporter can run. The bouncer's `api_url` then ends with it. Empty (the default)
   * serves `/v1/decisions` and `/v1/decisions/stream` at the root.
   */
  path_prefix: string;
  /** The enforcement policy that turns findings into decisions. */
  policy: PolicyConfig;
  /** Active decisions kept at most; past it the one ending soonest ends early. Default 100000. */
  max_active: number;
  /** How long expired decisions stay listed for bouncers that pull deltas, in milliseconds. Default 24 h. */
  expired_retention: number;
}

export function createDefaultConfig(): DecisionsExporterConfig {
  return { api_keys: [], path_prefix: '', policy: defaultPolicyConfig(), max_active: 100_000, expired_retention: 86_400_000 };
}

export const schema = object({
  api_keys: list(string({ check: (text) => (text.length >= 16 ? undefined : `each API key must be at least 16 characters, got ${text.length}`) }), { minItems: 1 }),
  path_prefix: string({ allowEmpty: true, check: (text) => (text === '' || /^\/[A-Za-z0-9._~\/-]*[^/]$/.test(text) ? undefined : `must be empty or a path such as /crowdsec, without a trailing slash, got ${JSON.stringify(text)}`) }),
  policy: policySchema,
  max_active: integer({ min: 1 }),
  expired_retention: duration({ min: 60_000 }),
}, { required: ['api_keys'] });

export function validate(config: DecisionsExporterConfig, report: (message: string, path?: string) => void): void {
  validatePolicy(config.policy, report);
  if (new Set(config.api_keys).size !== config.api_keys.length) report('api_keys must not repeat a key; give each bouncer its own', 'api_keys');
}
