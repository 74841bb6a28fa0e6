import { inAnyCidr, parseCidr, type Cidr } from '../../../core/cidr.js';
import { DETECTORS } from '../detectors/index.js';
import { HEADER_FIELD_PREFIX, type HttpEvent } from '../event.js';
import type { EventView } from '../view.js';
import { MAX_REGEX_INPUT } from './regex.js';
import type { ApiSpecCheck, Condition, FieldCondition, RuleSet } from './types.js';

/** A compiled condition: true when the event matches. Detector details are left in the view. */
export type Predicate = (view: EventView) => boolean;

/** Compiles a condition once per worker; evaluation then allocates nothing but detector results. */
export function compileCondition(condition: Condition, set: RuleSet): Predicate {
  if ('all' in condition) {
    const parts = condition.all.map((part) => compileCondition(part, set));
    return (view) => parts.every((part) => part(view));
  }
  if ('any' in condition) {
    const parts = condition.any.map((part) => compileCondition(part, set));
    return (view) => parts.some((part) => part(view));
  }
  if ('not' in condition) {
    const inner = compileCondition(condition.not, set);
    return (view) => !inner(view);
  }
  if ('detector' in condition) {
    const detector = DETECTORS.get(condition.detector);
    if (!detector) throw new Error(`unknown detector "${condition.detector}"`);
    return (view) => {
      let result = view.detectorResults.get(detector.name);
      if (result === undefined) {
        result = detector.detect(view) ?? null;
        view.detectorResults.set(detector.name, result);
      }
      return result !== null;
    };
  }
  if ('macro' in condition) {
    const macro = set.macros[condition.macro];
    if (!macro) throw new Error(`unknown macro "${condition.macro}"`);
    // Rules share macros such as static_asset; the view keeps each macro's result so it runs once per event.
    const name = condition.macro;
    const inner = compileCondition(macro, set);
    return (view) => {
      let result = view.macroResults.get(name);
      if (result === undefined) {
        result = inner(view);
        view.macroResults.set(name, result);
      }
      return result;
    };
  }
  if ('api_spec' in condition) return compileApiSpec(condition.api_spec);
  return compileField(condition, set);
}

/** Checks the request against the configured OpenAPI document; without a document nothing matches. */
function compileApiSpec(check: ApiSpecCheck): Predicate {
  return (view) => {
    const lookup = view.apiLookup();
    if (!lookup) return false;
    if (check === 'documented') return lookup.documented;
    if (check === 'deprecated') return lookup.deprecated;
    return !lookup.documented;
  };
}

function compileField(condition: FieldCondition, set: RuleSet): Predicate {
  const field = condition.field;
  const fold = condition.ignore_case === true;
  const text = (value: string) => (fold ? value.toLowerCase() : value);
  const checks: ((value: unknown) => boolean)[] = [];

  if (condition.equals !== undefined) {
    const expected = condition.equals;
    checks.push(typeof expected === 'string' ? (value) => text(String(value)) === text(expected) : (value) => value === expected || String(value) === String(expected));
  }
  const members = condition.in ?? (condition.in_list !== undefined ? set.lists[condition.in_list] : undefined);
  if (members) {
    const allowed = new Set(members.map((member) => text(String(member))));
    checks.push((value) => allowed.has(text(String(value))));
  }
  if (condition.contains) {
    const needles = condition.contains.map(text);
    checks.push((value) => {
      const subject = text(String(value));
      return needles.some((needle) => subject.includes(needle));
    });
  }
  if (condition.starts_with) {
    const prefixes = condition.starts_with.map(text);
    checks.push((value) => {
      const subject = text(String(value));
      return prefixes.some((prefix) => subject.startsWith(prefix));
    });
  }
  if (condition.ends_with) {
    const suffixes = condition.ends_with.map(text);
    checks.push((value) => {
      const subject = text(String(value));
      return suffixes.some((suffix) => subject.endsWith(suffix));
    });
  }
  if (condition.regex !== undefined) {
    const pattern = new RegExp(condition.regex, fold ? 'i' : '');
    checks.push((value) => pattern.test(String(value).slice(0, MAX_REGEX_INPUT)));
  }
  if (condition.cidr) {
    const ranges = condition.cidr.map((range) => parseCidr(range)).filter((range): range is Cidr => range !== undefined);
    checks.push((value) => inAnyCidr(ranges, String(value)));
  }
  for (const [key, compare] of [['gt', (a: number, b: number) => a > b], ['gte', (a: number, b: number) => a >= b], ['lt', (a: number, b: number) => a < b], ['lte', (a: number, b: number) => a <= b]] as const) {
    const bound = condition[key];
    if (bound !== undefined) checks.push((value) => {
      const number = typeof value === 'number' ? value : Number(value);
      return Number.isFinite(number) && compare(number, bound);
    });
  }

  const exists = condition.exists;
  const read = fieldReader(field);
  return (view) => {
    const value = read(view.event);
    const present = value !== undefined && value !== null && value !== '';
    if (exists !== undefined && present !== exists) return false;
    if (!present) return checks.length === 0;
    for (const check of checks) if (!check(value)) return false;
    return true;
  };
}

/** Builds the accessor of a field once, so evaluation does not parse the field name per event. */
function fieldReader(field: string): (event: HttpEvent) => unknown {
  if (field.startsWith(HEADER_FIELD_PREFIX)) {
    const header = field.slice(HEADER_FIELD_PREFIX.length);
    return (event) => event.headers?.[header];
  }
  return (event) => (event as unknown as Record<string, unknown>)[field];
}

/** Collects what the view's detectors found, for the finding's evidence. */
export function detectorDetails(view: EventView): string[] {
  const details: string[] = [];
  for (const [name, result] of view.detectorResults) if (result !== null) details.push(`${name}: ${result}`);
  return details;
}
