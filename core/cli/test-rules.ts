import type { ServiceConfig } from '../config/load.js';
import type { FactoryRegistry } from '../registry.js';
import { rulesFor, runRuleTests } from './builtins.js';
import type { RuleTestReport } from '../../processors/detection/testing.js';

export interface TestRulesOptions {
  registry: FactoryRegistry;
  /** Tests the rules of every detection processor in the config. */
  config?: ServiceConfig;
  /** Tests these rule files or directories instead. */
  rulePaths?: string[];
}

/** Runs rule tests for explicit rule paths, for the detection processors of a config, or for the default pack. */
export function testRules(options: TestRulesOptions): RuleTestReport {
  const detection = options.registry.get('processor', 'detection');
  if (!detection) throw new Error('no detection processor is built in');
  const configs: unknown[] = [];
  if (options.rulePaths && options.rulePaths.length > 0) {
    configs.push({ ...(detection.createDefaultConfig() as object), rules: options.rulePaths });
  } else if (options.config) {
    for (const component of options.config.processors.values()) if (component.type === 'detection') configs.push(component.config);
  }
  if (configs.length === 0) configs.push(detection.createDefaultConfig());
  const total: RuleTestReport = { passed: 0, failed: 0, lines: [] };
  for (const config of configs) {
    const report = runRuleTests(rulesFor(config as Parameters<typeof rulesFor>[0]));
    total.passed += report.passed;
    total.failed += report.failed;
    total.lines.push(...report.lines);
  }
  return total;
}
