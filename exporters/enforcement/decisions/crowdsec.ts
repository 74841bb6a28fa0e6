import type { Decision, DecisionScope } from '../../helper/enforcement/decision.js';

/**
 * Decisions in the shape CrowdSec's Local API gives bouncers (`models.Decision` in its swagger
 * file): a numeric `id`, `origin`, `type`, `scope`, `value`, `duration` as the time left in Go's
 * duration notation, `until`, `scenario` and `simulated`.
 */

/** Scope names as CrowdSec writes them; `ip` is the one bouncers filter on by default. */
const SCOPE_NAMES: Record<DecisionScope, string> = { ip: 'Ip', identity: 'User', api_key: 'ApiKey' };

export function scopeName(scope: DecisionScope): string {
  return SCOPE_NAMES[scope];
}

/** Formats milliseconds as Go's `time.Duration.String` does, such as `3h59m58.5s`, `250ms` or `-1m2s`. */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(Math.round(ms));
  if (rest < 1000) return `${sign}${rest}ms`;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = (rest / 1000).toFixed(3).replace(/\.?0+$/, '');
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`;
  return `${sign}${seconds}s`;
}

export interface CrowdSecDecision {
  id: number;
  uuid: string;
  origin: string;
  type: string;
  scope: string;
  value: string;
  duration: string;
  until: string;
  scenario: string;
  simulated: boolean;
}

export function toCrowdSec(decision: Decision, now: number): CrowdSecDecision {
  return {
    id: decision.id,
    uuid: decision.uuid,
    origin: decision.origin,
    type: decision.type,
    scope: scopeName(decision.scope),
    value: decision.value,
    duration: goDuration(Date.parse(decision.until) - now),
    until: decision.until,
    scenario: decision.scenario,
    simulated: false,
  };
}

/** The filters a bouncer sends as query parameters. */
export interface DecisionFilters {
  /** Lower-case scope names; the stream uses `ip,range` when none are given, as CrowdSec's does. */
  scopes: Set<string> | undefined;
  origins: Set<string> | undefined;
  scenariosContaining: string[];
  scenariosNotContaining: string[];
}

function commaList(value: string | null): string[] {
  return (value ?? '').split(',').map((item) => item.trim()).filter(Boolean);
}

export function readFilters(query: URLSearchParams, defaultScopes: string[] | undefined): DecisionFilters {
  const scopes = commaList(query.get('scopes')).map((scope) => scope.toLowerCase());
  const origins = commaList(query.get('origins')).map((origin) => origin.toLowerCase());
  let scopeSet: Set<string> | undefined;
  if (scopes.length > 0) scopeSet = new Set(scopes);
  else if (defaultScopes) scopeSet = new Set(defaultScopes);
  return {
    scopes: scopeSet,
    origins: origins.length > 0 ? new Set(origins) : undefined,
    scenariosContaining: commaList(query.get('scenarios_containing')),
    scenariosNotContaining: commaList(query.get('scenarios_not_containing')),
  };
}

export function matchesFilters(decision: Decision, filters: DecisionFilters): boolean {
  if (filters.scopes && !filters.scopes.has(scopeName(decision.scope).toLowerCase())) return false;
  if (filters.origins && !filters.origins.has(decision.origin)) return false;
  if (filters.scenariosContaining.length > 0 && !filters.scenariosContaining.some((word) => decision.scenario.includes(word))) return false;
  if (filters.scenariosNotContaining.some((word) => decision.scenario.includes(word))) return false;
  return true;
}
