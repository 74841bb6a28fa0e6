import { inspectValues, repeatSlot, type Detector, type ValueCheck } from './detector.js';
import type { EventView, Inspected } from '../view.js';
import { AMPERSAND, charClasses, DOLLAR, DOT, PIPE, QUOTE } from '../chars.js';

/*
 * NoSQL injection into MongoDB-style queries: query operators smuggled in through parameter
 * names (`user[$ne]=`) or JSON values (`{"$gt": ""}`), server-side JavaScript (`$where`), and
 * values that break out of a JavaScript string in a `$where` clause (`'; return true; var x='`).
 */

const OPERATORS = [
  'ne', 'gt', 'gte', 'lt', 'lte', 'eq', 'in', 'nin', 'regex', 'where', 'exists', 'or', 'and', 'nor', 'not', 'expr', 'elemmatch', 'size',
  'type', 'mod', 'all', 'function', 'accumulator', 'lookup', 'text', 'jsonschema',
];
const OPERATOR_SET = new Set(OPERATORS);

/** `[$ne]`, `[$regex]`: an operator as a bracketed key, the way qs-style parsers build objects from parameter names. */
function bracketOperator(value: string): string | undefined {
  for (let at = value.indexOf('[$'); at >= 0; at = value.indexOf('[$', at + 2)) {
    const close = value.indexOf(']', at + 2);
    if (close < 0 || close - at > 24) continue;
    const name = value.slice(at + 2, close);
    if (OPERATOR_SET.has(name)) return `$${name}`;
  }
  return undefined;
}

/** `{"$gt": ""}`, `{$ne: 1}`: an operator as a JSON or JavaScript object key. */
function objectOperator(value: string): string | undefined {
  for (let at = value.indexOf('$'); at >= 0; at = value.indexOf('$', at + 1)) {
    const before = value.slice(Math.max(0, at - 3), at).replace(/\s/g, '');
    if (!before.endsWith('{') && !before.endsWith('{"') && !before.endsWith(',"') && !before.endsWith(',') && !before.endsWith("{'")) continue;
    let j = at + 1;
    while (j < value.length && j - at < 16 && value.charCodeAt(j) >= 0x61 && value.charCodeAt(j) <= 0x7a) j++;
    const name = value.slice(at + 1, j);
    const after = value.slice(j, j + 4).replace(/\s/g, '');
    if (OPERATOR_SET.has(name) && (after.startsWith(':') || after.startsWith('":') || after.startsWith("':"))) return `$${name}`;
  }
  return undefined;
}

/** A quote that closes a JavaScript string, then `return`, `||` or a `$where`-style condition: `'; return true; var a='`. */
function javascriptBreakout(value: string): string | undefined {
  if (value.indexOf("'") < 0 && value.indexOf('"') < 0) return undefined;
  if (/['"]\s{0,4};\s{0,4}return\s/.test(value)) return 'javascript breakout with return';
  if (/['"]\s{0,4}\|\|\s{0,4}['"]?\d['"]?\s{0,4}={2,3}\s{0,4}['"]?\d/.test(value)) return 'javascript tautology';
  if (/this\.[a-z_]{1,32}\.match\(|sleep\(\d{3,}\)|db\.[a-z_]{1,32}\.(?:find|drop|insert|remove)|db\.getcollection\(/.test(value)) return 'mongo shell code';
  return undefined;
}

/** `1||this.price`, `x&&this.role`: a JavaScript condition on the document, as `$where` clauses take them. */
function javascriptCondition(value: string): string | undefined {
  if (value.indexOf('this.') < 0) return undefined;
  return /(?:\|\||&&)\s{0,4}this\.[a-z_$]/.test(value) ? 'javascript condition on this' : undefined;
}

/** Checks one decoded, lower-cased value (or parameter name); returns what was found, or undefined. `classes` are the value's character classes. */
export function detectNoSqlInjection(value: string, classes = charClasses(value)): string | undefined {
  if (value.length < 3 || (classes & (DOLLAR | QUOTE | DOT)) === 0) return undefined;
  if (value.indexOf('$') < 0 && value.indexOf("'") < 0 && value.indexOf('"') < 0 && value.indexOf('db.') < 0) return (classes & (PIPE | AMPERSAND)) !== 0 ? javascriptCondition(value) : undefined;
  const bracket = value.indexOf('[$') >= 0 ? bracketOperator(value) : undefined;
  if (bracket) return `operator ${bracket} in brackets`;
  const object = value.indexOf('$') >= 0 ? objectOperator(value) : undefined;
  if (object) return `operator ${object} in an object`;
  if (value.indexOf('$where') >= 0) return 'operator $where';
  return javascriptBreakout(value) ?? javascriptCondition(value);
}

const slot = repeatSlot();

const check: ValueCheck = (value, _location, classes) => detectNoSqlInjection(value, classes);

function inspect(values: Inspected[]): string | undefined {
  return inspectValues(values, check, slot);
}

/** Parameter names as sent, since `user[$ne]` is a name, and the view lists only odd names. */
function parameterNames(view: EventView): Inspected[] {
  return view.query.filter((item) => item.location === 'url.query');
}

export const noSqlInjection: Detector = {
  name: 'nosql_injection',
  description: 'MongoDB-style query operators in parameter names and JSON values, $where JavaScript and string breakouts.',
  detect: (view: EventView) => inspect(parameterNames(view)) ?? inspect(view.inputs) ?? (view.path.indexOf('this.') >= 0 ? inspect(view.segments) : undefined),
};
