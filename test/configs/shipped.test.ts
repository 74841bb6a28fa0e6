import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { builtinRegistry } from '../../core/cli/builtins.js';
import { loadConfigFile, loadConfigText } from '../../core/config/load.js';

const CONFIGS = join(import.meta.dirname, '..', '..', 'configs');
const ENV = { FINDINGS_WEBHOOK_URL: 'http://127.0.0.1:9/findings', WEBHOOK_TOKEN: 'test' };
const registry = builtinRegistry();

describe('shipped configurations', () => {
  it('default.yaml is valid', () => {
    expect(loadConfigFile(join(CONFIGS, 'default.yaml'), registry, ENV).pipelines.size).toBeGreaterThan(0);
  });

  for (const name of readdirSync(join(CONFIGS, 'examples'))) {
    it(`example ${name} is valid`, () => {
      expect(loadConfigFile(join(CONFIGS, 'examples', name), registry, ENV).pipelines.size).toBeGreaterThan(0);
    });
  }

  for (const name of readdirSync(join(CONFIGS, 'deploy', 'kubernetes'))) {
    const documents = parseAllDocuments(readFileSync(join(CONFIGS, 'deploy', 'kubernetes', name), 'utf8')).map((document) => document.toJS() as { kind?: string; metadata?: { name?: string }; data?: Record<string, string> });
    for (const document of documents.filter((candidate) => candidate.kind === 'ConfigMap')) {
      it(`Kubernetes ConfigMap ${document.metadata?.name} holds a valid config`, () => {
        const text = document.data?.['config.yaml'] ?? '';
        expect(loadConfigText(text, `${name}:${document.metadata?.name}`, registry, ENV).pipelines.size).toBeGreaterThan(0);
      });
    }
  }
});
