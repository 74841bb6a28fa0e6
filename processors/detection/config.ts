import { integer, list, object, string } from '../../core/config/schema.js';
import { defaultRulesPath } from '../../core/paths.js';

export interface DetectionConfig {
  /** Rule files or directories of them; relative paths are relative to the working directory. Default: the built-in pack. */
  rules: string[];
  /** Rule ids to leave out. */
  disable: string[];
  /** Attribute set on spans and log records that matched a single-event rule, listing the rule ids; empty turns marking off. */
  mark_attribute: string;
  /** Keys (such as client addresses) tracked per rule; the least recently used is evicted past it. Default 100000. */
  max_keys_per_rule: number;
}

export function createDefaultConfig(): DetectionConfig {
  return {
    rules: [defaultRulesPath()],
    disable: [],
    mark_attribute: 'watchpost.detection.rule_ids',
    max_keys_per_rule: 100_000,
  };
}

export const schema = object({
  rules: list(string(), { minItems: 1 }),
  disable: list(string()),
  mark_attribute: string({ allowEmpty: true }),
  max_keys_per_rule: integer({ min: 1 }),
});
