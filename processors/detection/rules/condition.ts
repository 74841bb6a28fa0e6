import { inAnyCidr, parseCidr, type Cidr } from '../../../core/cidr.js';
import { DETECTOR_INDEX, DETECTOR_LIST } from '../detectors/index.js';
import { HEADER_FIELD_PREFIX, type HttpEvent } from '../event.js';
import type { EventView } from '../view.js';
import { foldPattern, MAX_REGEX_INPUT } from './regex.js';
import type { ApiSpecCheck, Condition, FieldCondition, RuleSet } from './types.js';

/** A compiled condition: true when the event matches. Detector details are left in the view. */
export type Predicate = (view: EventView) => boolean;

/** Compiles a condition once per worker; evaluation then allocates nothing but detector results. */
export function compileCondition(condition: Condition, set: RuleSet): Predicate {
  if ('all' in condition) {
    const parts = condition.all.map((part) => compileCondition(part, set));
    return (view) => {
      for (let i = 0; i < parts.length; i++) if (!parts[i](view)) return false;
      return true;
    };
  }
  if ('any' in condition) {
    const parts = condition.any.map((part) => compileCondition(part, set));
    return (view) => {
      for (let i = 0; i < parts.length; i++) if (parts[i](view)) return true;
      return false;
    };
  }
  if ('not' in condition) {
    const inner = compileCondition(condition.not, set);
    return (view) => !inner(view);
  }
  if ('detector' in condition) {
    const index = DETECTOR_INDEX.get(condition.detector);
    if (index === undefined) throw new Error(`unknown detector "${condition.detector}"`);
    const detector = DETECTOR_LIST[index];
    return (view) => {
      const results = (view.detectorResults ??= new Array(DETECTOR_LIST.length));
      let result = results[index];
      if (result === undefined) {
        result = detector.detect(view) ?? null;
        results[index] = result;
        view.detectorsCalled.push(index);
      }
      return result !== null;
    };
  }
  if ('macro' in condition) {
    const macro = set.macros[condition.macro];
    if (!macro) throw new Error(`unknown macro "${condition.macro}"`);
    // Rules share macros such as static_asset; the view keeps each macro's result so it runs once per event.
    const slot = macroSlot(set, condition.macro);
    const inner = compileCondition(macro, set);
    return (view) => {
      let result = view.macroResults[slot];
      if (result === undefined) {
        result = inner(view);
        view.macroResults[slot] = result;
      }
      return result;
    };
  }
  if ('api_spec' in condition) return compileApiSpec(condition.api_spec);
  return compileField(condition, set);
}

const macroSlots = new WeakMap<RuleSet, Map<string, number>>();

/** Numbers the macros of a rule set as conditions name them, for the view's per-event results. */
function macroSlot(set: RuleSet, name: string): number {
  let slots = macroSlots.get(set);
  if (!slots) {
    slots = new Map();
    macroSlots.set(set, slots);
  }
  let slot = slots.get(name);
  if (slot === undefined) {
    slot = slots.size;
    slots.set(name, slot);
  }
  return slot;
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
      for (let i = 0; i < needles.length; i++) if (subject.includes(needles[i])) return true;
      return false;
    });
  }
  if (condition.starts_with) {
    const prefixes = condition.starts_with.map(text);
    checks.push((value) => {
      const subject = text(String(value));
      for (let i = 0; i < prefixes.length; i++) if (subject.startsWith(prefixes[i])) return true;
      return false;
    });
  }
  if (condition.ends_with) {
    const suffixes = condition.ends_with.map(text);
    checks.push((value) => {
      const subject = text(String(value));
      for (let i = 0; i < suffixes.length; i++) if (subject.endsWith(suffixes[i])) return true;
      return false;
    });
  }
  if (condition.regex !== undefined) {
    // No `i` flag: V8's linear-time fallback does not run it, so case folding lower-cases both sides.
    const pattern = new RegExp(fold ? foldPattern(condition.regex) : condition.regex);
    checks.push((value) => pattern.test(text(String(value).slice(0, MAX_REGEX_INPUT))));
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
    for (let i = 0; i < checks.length; i++) if (!checks[i](value)) return false;
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
  const results = view.detectorResults;
  if (!results) return details;
  for (const index of view.detectorsCalled) {
    const result = results[index];
    if (result) details.push(`${DETECTOR_LIST[index].name}: ${result}`);
  }
  return details;
}
