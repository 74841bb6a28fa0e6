import { duration, integer, list, object, string } from '../../../core/config/schema.js';
import { DECISION_SCOPES, type DecisionScope } from '../../helper/enforcement/decision.js';
import { defaultPolicyConfig, policySchema, validatePolicy, type PolicyConfig } from '../../helper/enforcement/policy.js';

export interface DenyListExporterConfig {
  /** The file to write; its directory must exist. Required. */
  path: string;
  /**
   * `nginx` (the default) writes `key value;` lines for an nginx `map` or `geo` block to include;
   * `haproxy` writes `key value` lines for an HAProxy map file.
   */
  format: 'nginx' | 'haproxy';
  /** The scope of the decisions the file lists: `ip` (the default), `identity` or `api_key`. */
  scope: DecisionScope;
  /** The value written after each key. Default `1`. */
  value: string;
  /**
   * A command run after each change of the file, as a list of program and arguments without a
   * shell, such as `[nginx, -s, reload]`. Empty (the default) runs nothing.
   */
  reload_command: string[];
  /** How long the reload command may run, in milliseconds. Default 10 s. */
  reload_timeout: number;
  /** Changes within this time are written together, in milliseconds. Default 1 s. */
  flush_interval: number;
  policy: PolicyConfig;
  /** Active decisions kept at most; past it the one ending soonest ends early. Default 100000. */
  max_active: number;
}

export function createDefaultConfig(): DenyListExporterConfig {
  return {
    path: '',
    format: 'nginx',
    scope: 'ip',
    value: '1',
    reload_command: [],
    reload_timeout: 10_000,
    flush_interval: 1000,
    policy: defaultPolicyConfig(),
    max_active: 100_000,
  };
}

export const schema = object({
  path: string(),
  format: string({ enum: ['nginx', 'haproxy'] as const }),
  scope: string({ enum: DECISION_SCOPES }),
  value: string({ check: (text) => (/^[A-Za-z0-9._:-]{1,64}$/.test(text) ? undefined : `must be 1 to 64 letters, digits, '.', '_', ':' or '-', got ${JSON.stringify(text)}`) }),
  reload_command: list(string()),
  reload_timeout: duration({ min: 100 }),
  flush_interval: duration({ min: 0 }),
  policy: policySchema,
  max_active: integer({ min: 1 }),
}, { required: ['path'] });

export function validate(config: DenyListExporterConfig, report: (message: string, path?: string) => void): void {
  validatePolicy(config.policy, report);
  if (!config.policy.scopes.includes(config.scope)) {
    report(`scope ${config.scope} is not among policy.scopes (${config.policy.scopes.join(', ')}), so the file would stay empty`, 'scope');
  }
}
