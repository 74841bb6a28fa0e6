import { builtinRegistry } from '../../core/cli/builtins.js';
import { ConfigError, loadConfigText } from '../../core/config/load.js';

const registry = builtinRegistry();

/**
 * Loads a config with one exporter in a findings pipeline and returns the messages of the errors
 * reported at or below that exporter's node. `body` is the exporter's YAML, indented four spaces.
 */
export function configErrors(id: string, body: string): string[] {
  const text = [
    'receivers:',
    '  otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } }',
    'processors:',
    '  detection: {}',
    'exporters:',
    `  ${id}:`,
    body,
    'service:',
    '  pipelines:',
    '    logs: { receivers: [otlp], processors: [detection], exporters: [debug] }',
    `    findings: { receivers: [detection], exporters: [${id}] }`,
    '',
  ].join('\n').replace('exporters:\n', 'exporters:\n  debug: {}\n');
  try {
    loadConfigText(text, 'test.yaml', registry);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues.filter((issue) => issue.path.startsWith(`exporters.${id}`)).map((issue) => issue.message);
  }
}
