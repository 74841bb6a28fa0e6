import { boolean, duration, integer, list, object, string } from '../../core/config/schema.js';
import { parseCidr } from '../../core/cidr.js';
import { defaultRulesPath } from '../../core/paths.js';

/** A source of the user id of a request. */
export interface IdentitySource {
  /**
   * `attribute`: a span or log record attribute such as `user.id`. `header`: a request header
   * such as `x-user-id`. `jwt_sub`: the `sub` claim of the bearer JWT in a header, read without
   * verifying the token.
   */
  type: 'attribute' | 'header' | 'jwt_sub';
  /** The attribute or header name, lower-case for headers. */
  name: string;
}

export interface IdentityConfig {
  /**
   * Tried in order; the first that gives a value becomes `user.id`. Default: the `user.id`
   * attribute, the older `enduser.id` attribute, then the JWT subject in `authorization`.
   */
  sources: IdentitySource[];
  /** Request headers that carry an API key. Default `[x-api-key]`. */
  api_key_headers: string[];
  /** Query parameters that carry an API key. Default `[api_key, apikey]`. */
  api_key_query_parameters: string[];
  /**
   * Secret for the keyed hash (HMAC-SHA-256) that turns an API key into `api_key.fingerprint`.
   * Empty (the default) makes a random one at start, so fingerprints change on restart and differ
   * between daemons. Set it, for example from `${env:WATCHPOST_API_KEY_HASH_KEY}`, to keep them stable.
   */
  api_key_hash_key: string;
}

export interface StateConfig {
  /** Keeps window, bucket, sequence, baseline and suppression state in the storage directory across restarts. Default true. */
  persist: boolean;
  /** How often the state is saved while running, besides at shutdown. Default 60 s; zero saves only at shutdown. */
  save_interval: number;
}

export interface DetectionConfig {
  /** Rule files or directories of them; relative paths are relative to the working directory. Default: the built-in pack. */
  rules: string[];
  /** Rule ids to leave out. */
  disable: string[];
  /** Attribute set on spans and log records that matched a single-event rule, listing the rule ids; empty turns marking off. */
  mark_attribute: string;
  /** Keys (such as client addresses) tracked per rule; about the least recently used is evicted past it (see bounded-map.ts). Default 100000. */
  max_keys_per_rule: number;
  /**
   * Address ranges of proxies and load balancers in front of the services. When the connecting
   * peer is in one, the client address is the right-most `X-Forwarded-For` entry outside them.
   * Default empty: the recorded client address is used as it is.
   */
  trusted_proxies: string[];
  identity: IdentityConfig;
  /**
   * An OpenAPI 3 document (YAML or JSON) describing the API, for the `api_spec` condition:
   * shadow (undocumented) and zombie (deprecated) endpoints. Default empty: no document, and
   * rules using the condition never match.
   */
  openapi: string;
  /** JWTs whose `exp` lies further than this after the request are weak. Default 30 days. */
  jwt_max_lifetime: number;
  state: StateConfig;
}

export function createDefaultConfig(): DetectionConfig {
  return {
    rules: [defaultRulesPath()],
    disable: [],
    mark_attribute: 'watchpost.detection.rule_ids',
    max_keys_per_rule: 100_000,
    trusted_proxies: [],
    identity: {
      sources: [
        { type: 'attribute', name: 'user.id' },
        { type: 'attribute', name: 'enduser.id' },
        { type: 'jwt_sub', name: 'authorization' },
      ],
      api_key_headers: ['x-api-key'],
      api_key_query_parameters: ['api_key', 'apikey'],
      api_key_hash_key: '',
    },
    openapi: '',
    jwt_max_lifetime: 30 * 24 * 3600_000,
    state: { persist: true, save_interval: 60_000 },
  };
}

const cidr = string({ check: (text) => (parseCidr(text) ? undefined : `must be an address or range such as 10.0.0.0/8, got ${JSON.stringify(text)}`) });
const headerName = string({ check: (text) => (/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(text) ? undefined : `must be a lower-case header name, got ${JSON.stringify(text)}`) });

export const schema = object({
  rules: list(string(), { minItems: 1 }),
  disable: list(string()),
  mark_attribute: string({ allowEmpty: true }),
  max_keys_per_rule: integer({ min: 1 }),
  trusted_proxies: list(cidr),
  identity: object({
    sources: list(object({ type: string({ enum: ['attribute', 'header', 'jwt_sub'] as const }), name: string() }, { required: ['type', 'name'] })),
    api_key_headers: list(headerName),
    api_key_query_parameters: list(string()),
    api_key_hash_key: string({ allowEmpty: true }),
  }),
  openapi: string({ allowEmpty: true }),
  jwt_max_lifetime: duration({ min: 1000 }),
  state: object({ persist: boolean(), save_interval: duration({ min: 0 }) }),
});
