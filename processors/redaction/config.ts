import { list, object, string } from '../../core/config/schema.js';
import { compileSafeRegex } from '../helper/regex.js';

export const DETECTORS = ['bearer', 'jwt', 'url_credentials', 'secret_parameter', 'secret_key', 'card_number', 'email'] as const;
export type Detector = (typeof DETECTORS)[number];

export interface RedactionConfig {
  /** `mask` replaces a secret with `mask_text`; `hash` with `hmac:` and the first 32 hex digits of its HMAC-SHA256 under `hash_key`, so equal values stay comparable. Default `mask`. */
  action: 'mask' | 'hash';
  /** The replacement text of `mask`. Default `****`. */
  mask_text: string;
  /** The HMAC key of `hash`; required with it. Use `${env:…}`; it is never logged. */
  hash_key: string;
  /** Built-in detectors to run; all by default. */
  detectors: Detector[];
  /** Attribute keys whose whole value is masked, beyond the built-in secret keys; matched without case, on the whole key or its last dot-separated part. */
  blocked_keys: string[];
  /** Attribute keys never changed, whatever their value. */
  allowed_keys: string[];
  /** RE2 regular expressions; every match in a string value is masked. */
  blocked_values: string[];
  /** Query, form and JSON parameter names whose values are masked, beyond the built-in ones. */
  secret_parameters: string[];
}

export function createDefaultConfig(): RedactionConfig {
  return {
    action: 'mask',
    mask_text: '****',
    hash_key: '',
    detectors: [...DETECTORS],
    blocked_keys: [],
    allowed_keys: [],
    blocked_values: [],
    secret_parameters: [],
  };
}

export const schema = object({
  action: string({ enum: ['mask', 'hash'] as const }),
  mask_text: string(),
  hash_key: string({ allowEmpty: true }),
  detectors: list(string({ enum: DETECTORS })),
  blocked_keys: list(string()),
  allowed_keys: list(string()),
  blocked_values: list(string()),
  secret_parameters: list(string()),
});

export function validateConfig(config: RedactionConfig, report: (message: string, path?: string) => void): void {
  if (config.action === 'hash' && config.hash_key.length < 16) report('action hash needs a hash_key of at least 16 characters, such as ${env:WATCHPOST_REDACTION_KEY}', 'hash_key');
  for (const pattern of config.blocked_values) {
    const compiled = compileSafeRegex(pattern);
    if (typeof compiled === 'string') report(`blocked_values: ${compiled}`, 'blocked_values');
    else if (compiled.test('')) report(`blocked_values: ${JSON.stringify(pattern)} matches empty text; it must match at least one character`, 'blocked_values');
  }
}
