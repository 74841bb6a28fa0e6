import type { ErrorCode } from '../errors.js';
import { childPath, type ConfigIssue, type ConfigNode, type MapNode, type ScalarNode } from './node.js';
import { parseDuration } from './duration.js';

/**
 * A small schema language for component configs. A schema turns a config node into a value
 * and reports every problem it finds with the node's path and line; it never stops at the
 * first one, so `watchpost validate` can list all errors at once.
 */
export interface Schema<T> {
  /** What a valid value looks like, as it appears in messages: `an integer between 1 and 65535`. */
  readonly expected: string;
  parse(node: ConfigNode, context: ParseContext): T | undefined;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

export class ParseContext {
  readonly issues: ConfigIssue[] = [];

  report(node: Pick<ConfigNode, 'path' | 'file' | 'line'>, code: ErrorCode, message: string): undefined {
    // A failed ${env:…} expansion was reported already; a type error on its text would repeat it.
    if ((node as { envError?: boolean }).envError) return undefined;
    this.issues.push({ code, path: node.path, file: node.file, line: node.line, message });
    return undefined;
  }

  invalid(node: ConfigNode, expected: string): undefined {
    return this.report(node, 'WP_ERR_CONFIG_INVALID_VALUE', `must be ${expected}, got ${describeNode(node)}`);
  }
}

function describeNode(node: ConfigNode): string {
  if (node.kind === 'map') return 'a map';
  if (node.kind === 'seq') return 'a list';
  if (node.value === null) return 'an empty value';
  return typeof node.value === 'string' ? JSON.stringify(node.text) : String(node.text);
}

function scalar(node: ConfigNode): ScalarNode | undefined {
  return node.kind === 'scalar' ? node : undefined;
}

export interface StringOptions {
  enum?: readonly string[];
  /** A check beyond the type; returns a message for an invalid value. */
  check?: (value: string) => string | undefined;
  allowEmpty?: boolean;
}

/** A string. Plain scalars keep their text, so `0123` is `"0123"` and `on` is `"on"`. */
export function string<const E extends string = string>(options: StringOptions & { enum?: readonly E[] } = {}): Schema<E> {
  const expected = options.enum ? `one of ${options.enum.map((v) => JSON.stringify(v)).join(', ')}` : 'a string';
  return {
    expected,
    parse(node, context) {
      const value = scalar(node);
      if (!value || value.value === null) return context.invalid(node, expected);
      const text = value.text;
      if (!options.allowEmpty && text === '' && !options.enum) return context.invalid(node, 'a non-empty string');
      if (options.enum && !options.enum.includes(text as E)) return context.invalid(node, expected);
      const problem = options.check?.(text);
      if (problem) return context.report(node, 'WP_ERR_CONFIG_INVALID_VALUE', problem);
      return text as E;
    },
  };
}

export interface NumberOptions {
  min?: number;
  max?: number;
  integer?: boolean;
  /** When true, `min` itself is not allowed (for values that must be strictly positive). */
  exclusiveMin?: boolean;
}

/** A number; a string from `${env:…}` that holds a number is accepted. */
export function number(options: NumberOptions = {}): Schema<number> {
  const noun = options.integer ? 'an integer' : 'a number';
  let expected = noun;
  if (options.min !== undefined && options.max !== undefined) expected = `${noun} between ${options.min} and ${options.max}`;
  else if (options.min !== undefined) expected = options.exclusiveMin ? `${noun} greater than ${options.min}` : `${noun} of at least ${options.min}`;
  else if (options.max !== undefined) expected = `${noun} of at most ${options.max}`;
  return {
    expected,
    parse(node, context) {
      const value = scalar(node);
      if (!value || value.value === null || typeof value.value === 'boolean') return context.invalid(node, expected);
      const parsed = typeof value.value === 'number' ? value.value : value.text.trim() === '' ? NaN : Number(value.text);
      if (!Number.isFinite(parsed)) return context.invalid(node, expected);
      if (options.integer && !Number.isInteger(parsed)) return context.invalid(node, expected);
      if (options.min !== undefined && (parsed < options.min || (options.exclusiveMin && parsed === options.min))) return context.invalid(node, expected);
      if (options.max !== undefined && parsed > options.max) return context.invalid(node, expected);
      return parsed;
    },
  };
}

export function integer(options: Omit<NumberOptions, 'integer'> = {}): Schema<number> {
  return number({ ...options, integer: true });
}

/** A boolean: `true` or `false` (a string from `${env:…}` with that text counts). */
export function boolean(): Schema<boolean> {
  const expected = 'true or false';
  return {
    expected,
    parse(node, context) {
      const value = scalar(node);
      if (value && typeof value.value === 'boolean') return value.value;
      if (value && (value.text === 'true' || value.text === 'false')) return value.text === 'true';
      return context.invalid(node, expected);
    },
  };
}

/** A duration such as `5s`, `1m30s` or `250ms`, returned in milliseconds. */
export function duration(options: { min?: number; max?: number } = {}): Schema<number> {
  const expected = 'a duration such as 500ms, 5s or 1m';
  return {
    expected,
    parse(node, context) {
      const value = scalar(node);
      const ms = value && value.value !== null ? parseDuration(value.text) : undefined;
      if (ms === undefined) return context.invalid(node, expected);
      if (options.min !== undefined && ms < options.min) return context.invalid(node, `a duration of at least ${options.min} ms`);
      if (options.max !== undefined && ms > options.max) return context.invalid(node, `a duration of at most ${options.max} ms`);
      return ms;
    },
  };
}

const HOST_PORT = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):(\d{1,5})$/;

/** A `host:port` listen or connect address; the port may be 0 to pick a free one. */
export function endpoint(): Schema<string> {
  return string({
    check: (text) => {
      const match = HOST_PORT.exec(text);
      if (!match || Number(match[1]) > 65535) return `must be host:port, such as 127.0.0.1:4318, got ${JSON.stringify(text)}`;
      return undefined;
    },
  });
}

/**
 * An http:// or https:// URL. Errors do not repeat the value: URLs such as Slack's incoming
 * webhooks carry their secret in the path, and others may hold credentials.
 */
export function url(): Schema<string> {
  return string({
    check: (text) => {
      let parsed: URL;
      try {
        parsed = new URL(text);
      } catch {
        return 'must be an http or https URL, got a value that is not a URL (not shown, since URLs may contain secrets)';
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `must be an http or https URL, got a URL with the scheme ${JSON.stringify(parsed.protocol.slice(0, -1))}`;
      return undefined;
    },
  });
}

/** A list; a single value where a list is expected is an error, as in the Collector. */
export function list<T>(item: Schema<T>, options: { minItems?: number } = {}): Schema<T[]> {
  const expected = `a list of ${item.expected.replace(/^(a|an) /, '')} values`;
  return {
    expected,
    parse(node, context) {
      if (node.kind !== 'seq') {
        if (node.kind === 'scalar' && node.value === null && !options.minItems) return [];
        return context.invalid(node, expected);
      }
      if (options.minItems !== undefined && node.items.length < options.minItems) {
        return context.report(node, 'WP_ERR_CONFIG_INVALID_VALUE', `must have at least ${options.minItems} item(s)`);
      }
      const values: T[] = [];
      let ok = true;
      for (const child of node.items) {
        const value = item.parse(child, context);
        if (value === undefined) ok = false;
        else values.push(value);
      }
      return ok ? values : undefined;
    },
  };
}

/** A map with free keys and values of one schema, such as HTTP headers. */
export function record<T>(value: Schema<T>): Schema<Record<string, T>> {
  const expected = `a map of ${value.expected.replace(/^(a|an) /, '')} values`;
  return {
    expected,
    parse(node, context) {
      if (node.kind === 'scalar' && node.value === null) return {};
      if (node.kind !== 'map') return context.invalid(node, expected);
      const result: Record<string, T> = {};
      let ok = true;
      for (const [key, child] of node.entries) {
        const parsed = value.parse(child, context);
        if (parsed === undefined) ok = false;
        else result[key] = parsed;
      }
      return ok ? result : undefined;
    },
  };
}

type Shape = Record<string, Schema<unknown>>;
type ObjectOf<S extends Shape> = { [K in keyof S]?: Infer<S[K]> };

export interface ObjectOptions<S extends Shape> {
  required?: readonly (keyof S & string)[];
}

/**
 * A map with known keys. Unknown keys are errors that list the known ones; every key is
 * optional unless named in `required`, because defaults come from the component's
 * createDefaultConfig().
 */
export function object<S extends Shape>(shape: S, options: ObjectOptions<S> = {}): Schema<ObjectOf<S>> & { shape: S } {
  const expected = 'a map';
  return {
    expected,
    shape,
    parse(node, context) {
      if (node.kind === 'scalar' && node.value === null) {
        return checkRequired(node, options.required ?? [], new Set(), context) ? {} as ObjectOf<S> : undefined;
      }
      if (node.kind !== 'map') return context.invalid(node, expected);
      const result: Record<string, unknown> = {};
      let ok = true;
      for (const [key, child] of node.entries) {
        const field = Object.hasOwn(shape, key) ? shape[key] : undefined;
        if (!field) {
          ok = false;
          unknownKey(node, key, Object.keys(shape), context);
          continue;
        }
        const value = field.parse(child, context);
        if (value === undefined) ok = false;
        else result[key] = value;
      }
      if (!checkRequired(node, options.required ?? [], new Set(node.entries.keys()), context)) ok = false;
      return ok ? result as ObjectOf<S> : undefined;
    },
  };
}

function checkRequired(node: ConfigNode, required: readonly string[], present: Set<string>, context: ParseContext): boolean {
  let ok = true;
  for (const key of required) {
    if (!present.has(key)) {
      ok = false;
      context.report(node, 'WP_ERR_CONFIG_MISSING_KEY', `missing required key "${key}"`);
    }
  }
  return ok;
}

/** Reports an unknown key at its own line, suggesting the closest known key. */
export function unknownKey(node: MapNode, key: string, known: string[], context: ParseContext): void {
  const line = node.keyLines.get(key) ?? node.line;
  const suggestion = closest(key, known);
  const hint = suggestion ? `; did you mean "${suggestion}"?` : known.length > 0 ? `; known keys: ${known.join(', ')}` : '';
  context.report({ path: childPath(node.path, key), file: node.file, line }, 'WP_ERR_CONFIG_UNKNOWN_KEY', `unknown key "${key}"${hint}`);
}

/** Returns the candidate nearest to a misspelt word, or undefined when none is near enough. */
export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0];
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j];
      previous[j] = Math.min(previous[j] + 1, previous[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length];
}

/** Any value, converted to plain data. For free-form sections that a component validates itself. */
export function anyValue(): Schema<unknown> {
  return { expected: 'any value', parse: (node) => toPlain(node) };
}

/** Converts config nodes to plain data without validation. */
export function toPlain(node: ConfigNode): unknown {
  if (node.kind === 'map') return Object.fromEntries([...node.entries].map(([key, child]) => [key, toPlain(child)]));
  if (node.kind === 'seq') return node.items.map(toPlain);
  return node.value;
}

/** A value of either schema, tried in order; the error names both. */
export function union<A, B>(first: Schema<A>, second: Schema<B>): Schema<A | B> {
  const expected = `${first.expected} or ${second.expected}`;
  return {
    expected,
    parse(node, context) {
      for (const candidate of [first, second] as Schema<A | B>[]) {
        const probe = new ParseContext();
        const value = candidate.parse(node, probe);
        if (value !== undefined && probe.issues.length === 0) return value;
      }
      return context.invalid(node, expected);
    },
  };
}

/**
 * Merges a parsed partial config over the defaults. Nested maps merge key by key; lists and
 * scalars replace the default.
 */
export function mergeDefaults<T>(defaults: T, overrides: unknown): T {
  if (!isPlainObject(defaults) || !isPlainObject(overrides)) return (overrides === undefined ? defaults : overrides) as T;
  const result: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(overrides)) {
    result[key] = key in result ? mergeDefaults(result[key], value) : value;
  }
  return result as T;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
