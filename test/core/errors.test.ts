import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCodes, isRetryable, permanentError, retryableError } from '../../core/errors.js';

describe('error catalogue', () => {
  const documentation = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'errors.md'), 'utf8');

  for (const code of Object.keys(ErrorCodes)) {
    it(`documents ${code}`, () => {
      expect(documentation).toContain(`| \`${code}\` |`);
    });
  }

  it('documents no code that does not exist', () => {
    const documented = [...documentation.matchAll(/\| `(WP_ERR_[A-Z_]+)` \|/g)].map((match) => match[1]);
    expect(documented.sort()).toEqual(Object.keys(ErrorCodes).sort());
  });

  it('tells permanent from retryable errors', () => {
    expect(isRetryable(permanentError('WP_ERR_RECEIVER_DECODE', 'bad'))).toBe(false);
    expect(isRetryable(retryableError('WP_ERR_RECEIVER_OVERLOADED', 'busy'))).toBe(true);
  });
});
